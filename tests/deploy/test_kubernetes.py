"""deploy/kubernetes/, rendered by kubectl's kustomize: every object valid against the Kubernetes
API schemas (kubernetes-validate, no cluster), and the stack wired as compose.yaml and the Python
side have it: the same services, images, ports, settings, probes, GPUs, secrets and volumes."""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.common.admission import Admission
from services.common.routes import router
from shared.client import RewardClient
from shared.settings import DEFAULT_PORTS, ServiceSettings, SettingsError, load_settings
from tests.deploy.conftest import KUBERNETES_DIR, OVERLAYS
from tests.deploy.manifests import (
    GPU,
    Manifests,
    claim_mounts,
    container,
    gpus,
    memory_mounts,
    pod_spec,
    secret_references,
)
from tests.deploy.wiring import (
    ROOT,
    SECRET,
    SETTINGS,
    assert_judge_uses_server,
    assert_settings_environment,
    env_prefix,
    gpu_requests,
    option,
    seconds,
)

KUBERNETES_VERSION = "1.37"
NAMESPACE = "stylegrpo"
SECRET_NAME = "stylegrpo-secrets"
FOLDERS = [*(f"overlays/{name}" for name in OVERLAYS), "books", "monitoring"]
CUSTOM_KINDS = {"PodMonitor"}  # the Prometheus Operator's: no Kubernetes API schema for it
COMPOSE_ONLY = {"style-2"}  # compose's second style replica; here the autoscaler adds pods
VLLM_SERVERS = ("vllm", "judge-llm")


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_object_is_valid_for_the_kubernetes_api(kustomize: Any, folder: str) -> None:
    objects = kustomize.render(folder)
    assert objects, f"{folder} renders nothing"
    for item in objects:
        where = f"{folder}: {item['kind']}/{item['metadata']['name']}"
        assert item["metadata"]["namespace"] == NAMESPACE, where
        if item["kind"] in CUSTOM_KINDS:
            assert folder == "monitoring", f"{where} needs a CRD; keep it in monitoring/"
            continue
        try:
            checked = kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {exc.message} at {'.'.join(map(str, exc.path))}")
        assert checked == KUBERNETES_VERSION, where


def test_the_schema_check_refuses_a_misspelt_field_and_a_wrong_type(kustomize: Any) -> None:
    job = Manifests(kustomize.render("overlays/one-gpu")).get("Job", "trainer")
    misspelt, mistyped = copy.deepcopy(job), copy.deepcopy(job)
    pod_spec(misspelt)["containers"][0]["resource"] = {"limits": {GPU: 1}}
    mistyped["spec"]["completions"] = "two"
    for broken in (misspelt, mistyped):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_stack_runs_compose_s_services_and_volumes(stack: Manifests, composed: Any) -> None:
    services = composed["services"]
    long_running = {n for n, s in services.items() if s["restart"] != "no"} - COMPOSE_ONLY
    assert set(stack.of_kind("Deployment")) == long_running
    assert set(stack.of_kind("Job")) == {"trainer"}
    assert set(stack.of_kind("Service")) == long_running | {"trainer"}
    assert set(stack.of_kind("HorizontalPodAutoscaler")) == set(DEFAULT_PORTS)
    claims = stack.of_kind("PersistentVolumeClaim")
    assert set(claims) == set(composed["volumes"])
    # Pods on several nodes share each one (style replicas, the trainer's pods).
    assert all(c["spec"]["accessModes"] == ["ReadWriteMany"] for c in claims.values())


def test_every_pod_runs_compose_s_image(stack: Manifests, kustomize: Any, composed: Any) -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    books = Manifests(kustomize.render("books")).workloads()
    for name, workload in {**stack.workloads(), **books}.items():
        spec = pod_spec(workload)
        for each in [*spec.get("initContainers", []), *spec["containers"]]:
            assert each["image"] == composed["services"][name]["image"], f"{name}/{each['name']}"
            assert each["image"].endswith(f":{project['version']}"), each["image"]


def test_each_service_listens_on_compose_s_port_behind_a_service_of_its_name(
    stack: Manifests, composed: Any
) -> None:
    for name in set(stack.of_kind("Deployment")):
        workload = stack.selected_by(name)
        assert workload["metadata"]["name"] == name
        main = container(workload)
        command = stack.command(main)
        port = DEFAULT_PORTS[name] if name in DEFAULT_PORTS else int(option(command, "--port"))
        assert {p["name"]: p["containerPort"] for p in main["ports"]} == {"http": port}, name
        [exposed] = stack.get("Service", name)["spec"]["ports"]
        assert (exposed["port"], exposed["targetPort"]) == (port, "http"), name
        if name in DEFAULT_PORTS:
            assert main["image"].rsplit(":", 1)[0] == f"stylegrpo/{name}"
            environment, prefix = stack.environment(main), env_prefix(name)
            assert environment[f"{prefix}HOST"] == "0.0.0.0", name
            assert f"{prefix}PORT" not in environment, f"{name} must keep its default port"
        else:
            assert command == composed["services"][name]["command"], name


def test_reward_environments_are_compose_s_and_load_as_settings(
    stack: Manifests, composed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for reward in DEFAULT_PORTS:
        environment = stack.environment(container(stack.get("Deployment", reward)))
        expected = composed["services"][reward]["environment"]
        assert set(environment) <= set(expected), f"{reward}: compose does not set those"
        assert {k: v for k, v in environment.items() if v is not None} == {
            k: v for k, v in expected.items() if v is not None
        }, reward
        assert_settings_environment(reward, reward, environment, tmp_path, monkeypatch)


def test_secrets_come_from_the_secret_and_the_api_keys_are_required(stack: Manifests) -> None:
    for name, workload in stack.workloads().items():
        spec = pod_spec(workload)
        for each in [*spec.get("initContainers", []), *spec["containers"]]:
            secrets = secret_references(each)
            named = {v["name"] for v in each.get("env", []) if SECRET.search(v["name"])}
            assert named == set(secrets), f"{name}/{each['name']}: a secret written as a value"
            for variable, reference in secrets.items():
                required = variable != "HF_TOKEN"
                assert reference == {"name": SECRET_NAME, "key": variable} | (
                    {} if required else {"optional": True}
                ), f"{name}/{each['name']}: {variable}"
    for config_map in stack.of_kind("ConfigMap").values():
        assert not any(SECRET.search(key) for key in config_map["data"])


def test_values_two_containers_share_live_in_one_config_map(
    stack: Manifests, env_example: Any
) -> None:
    [config_map] = stack.of_kind("ConfigMap").values()
    data = config_map["data"]
    assert data == {key: env_example.values[key] for key in data}, "compose's defaults"
    readers: dict[str, set[str]] = {key: set() for key in data}
    for name, workload in stack.workloads().items():
        for variable in container(workload).get("env", []):
            if "configMapKeyRef" in variable.get("valueFrom", {}):
                readers[variable["valueFrom"]["configMapKeyRef"]["key"]].add(name)
    assert all(len(names) >= 2 for names in readers.values()), readers


def test_the_judge_calls_the_judge_model_s_service(stack: Manifests) -> None:
    server = stack.get("Deployment", "judge-llm")
    [port] = stack.get("Service", "judge-llm")["spec"]["ports"]
    judge = stack.environment(container(stack.get("Deployment", "judge")))
    assert_judge_uses_server(judge, stack.command(container(server)), "judge-llm", port["port"])


def test_probes_are_compose_s_healthchecks(stack: Manifests, composed: Any) -> None:
    for name, workload in stack.of_kind("Deployment").items():
        main, check = container(workload), composed["services"][name]["healthcheck"]
        ready, alive = main["readinessProbe"], main["livenessProbe"]
        if name in DEFAULT_PORTS:
            # /ready with the API key, by the images' own healthcheck, exactly as compose runs it.
            assert check["test"][0] == "CMD" and ready["exec"]["command"] == check["test"][1:]
            assert urlsplit(ready["exec"]["command"][2]).path == "/ready"
            probes = [ready, alive]
            # /health answers while the model loads: no startup probe, and no restarts meanwhile.
            assert "startupProbe" not in main, name
        else:
            startup = main["startupProbe"]
            probes = [ready, alive, startup]
            path = urlsplit(check["test"][3]).path
            assert ready["httpGet"] == {"path": path, "port": "http"}, name
            budget = startup["periodSeconds"] * startup["failureThreshold"]
            assert budget >= seconds(check["start_period"]), f"{name}: model downloads take time"
        assert alive["httpGet"] == {"path": "/health", "port": "http"}, name
        for probe in probes:
            assert probe["timeoutSeconds"] < probe["periodSeconds"], name


def test_each_service_gets_the_gpus_compose_reserves(stack: Manifests, composed: Any) -> None:
    for name, workload in stack.of_kind("Deployment").items():
        devices = [gpu for r in gpu_requests(composed["services"][name]) for gpu in r["device_ids"]]
        reserved = len(",".join(devices).split(",")) if devices else 0
        assert gpus(container(workload)) == reserved, name
        tolerated = {t["key"] for t in pod_spec(workload).get("tolerations", [])}
        assert (GPU in tolerated) == (reserved > 0), f"{name}: GPU nodes are often tainted"
    generation = stack.command(container(stack.get("Deployment", "vllm")))
    vllm_gpus = gpus(container(stack.get("Deployment", "vllm")))
    assert option(generation, "--tensor-parallel-size") == str(vllm_gpus)


def test_a_stopping_pod_drains_within_its_grace_period(
    stack: Manifests, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for reward in DEFAULT_PORTS:
        workload = stack.get("Deployment", reward)
        main = container(workload)
        settings = assert_settings_environment(
            reward, reward, stack.environment(main), tmp_path, monkeypatch
        )
        assert isinstance(settings, ServiceSettings)
        pause = main["lifecycle"]["preStop"]["sleep"]["seconds"]
        grace = pod_spec(workload)["terminationGracePeriodSeconds"]
        assert grace > pause + settings.graceful_shutdown_s, reward


def in_flight_metric() -> str:
    """The name of the gauge of texts in flight that every service exports."""
    registry = CollectorRegistry()
    Admission(max_texts=1, retry_after_s=1, setting="MAX_IN_FLIGHT_TEXTS", registry=registry)
    [gauge] = [metric.name for metric in registry.collect() if metric.type == "gauge"]
    return gauge


def test_each_reward_scales_on_its_texts_in_flight(stack: Manifests) -> None:
    chunk = inspect.signature(RewardClient).parameters["max_batch"].default
    for reward in DEFAULT_PORTS:
        scaler = stack.get("HorizontalPodAutoscaler", reward)["spec"]
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": reward}
        assert scaler["scaleTargetRef"] == target
        assert "replicas" not in stack.get("Deployment", reward)["spec"], "the scaler owns it"
        [metric] = scaler["metrics"]
        assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] == in_flight_metric()
        # More than one of the client's chunks per pod on average: work is queueing.
        assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": str(chunk)}
        assert 1 <= scaler["minReplicas"] < scaler["maxReplicas"]
    for name in VLLM_SERVERS:  # the trainer syncs its weights into exactly one server
        assert stack.get("Deployment", name)["spec"]["replicas"] == 1


def test_prometheus_scrapes_the_metric_the_autoscalers_read(kustomize: Any) -> None:
    stack = Manifests(kustomize.render("overlays/one-gpu"))
    monitors = Manifests(kustomize.render("monitoring")).of_kind("PodMonitor")
    assert set(monitors) == set(DEFAULT_PORTS)
    served = {route.path for route in router.routes if hasattr(route, "path")}
    for reward, monitor in monitors.items():
        workload = stack.get("Deployment", reward)
        assert (
            monitor["spec"]["selector"]["matchLabels"]
            == workload["spec"]["selector"]["matchLabels"]
        )
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        main = container(workload)
        assert endpoint["port"] in {port["name"] for port in main["ports"]}
        assert endpoint["path"] in served
        key = secret_references(main)[f"{env_prefix(reward)}API_KEY"]
        assert endpoint["authorization"] == {"type": "Bearer", "credentials": key}
    values = yaml.safe_load(
        (KUBERNETES_DIR / "monitoring" / "prometheus-adapter-values.yaml").read_text("utf-8")
    )
    [rule] = values["rules"]["custom"]
    assert rule["seriesQuery"].startswith(in_flight_metric() + "{")
    assert rule["name"]["as"] == in_flight_metric()


def test_service_links_are_off_because_they_would_be_read_as_settings(
    stack: Manifests, tmp_path: Path
) -> None:
    for name, workload in stack.workloads().items():
        assert pod_spec(workload)["enableServiceLinks"] is False, name
    # What Kubernetes would inject for each Service (and vLLM reads VLLM_PORT as its own).
    injected = {
        f"{service.upper().replace('-', '_')}_{suffix}"
        for service in stack.of_kind("Service")
        for suffix in ("SERVICE_HOST", "SERVICE_PORT", "PORT")
    }
    read = {
        variable: reward
        for variable in injected
        for reward in SETTINGS
        if variable.startswith(prefix := env_prefix(reward))
        and variable[len(prefix) :].lower() in SETTINGS[reward].model_fields
    }
    assert set(read) == {f"{env_prefix(reward)}PORT" for reward in DEFAULT_PORTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLE_BOOKS_DIR", str(tmp_path))
        for variable, reward in read.items():
            patch.setenv(variable, f"tcp://10.0.0.1:{DEFAULT_PORTS[reward]}")
            with pytest.raises(SettingsError, match=variable):
                load_settings(SETTINGS[reward])
            patch.delenv(variable)


def test_pods_mount_compose_s_volumes_where_compose_does(
    stack: Manifests, kustomize: Any, composed: Any
) -> None:
    books = Manifests(kustomize.render("books")).workloads()
    for name, workload in {**stack.workloads(), **books}.items():
        service, main = composed["services"][name], container(workload)
        expected = {
            mount["target"]: (mount["source"], bool(mount.get("read_only")))
            for mount in service.get("volumes", [])
            if mount["type"] == "volume"
        }
        assert claim_mounts(workload, main) == expected, name
        shared_memory = {"/dev/shm"} if service.get("ipc") == "host" else set()
        assert memory_mounts(workload, main) == shared_memory, name


def test_the_books_job_is_compose_s(kustomize: Any, composed: Any) -> None:
    job = Manifests(kustomize.render("books"))
    books = container(job.get("Job", "books"))
    expected = composed["services"]["books"]
    # `compose config` keeps compose's `$$` escape; the container's shell gets `$`.
    assert job.command(books) == [word.replace("$$", "$") for word in expected["command"]]
    environment = {k: v for k, v in job.environment(books).items() if v is not None}
    assert environment == {k: v for k, v in expected["environment"].items() if v is not None}


def test_pods_run_as_the_images_user(stack: Manifests, dockerfiles: Any) -> None:
    uids = {
        instruction.arguments.split("=", 1)[1]
        for instructions in dockerfiles.values()
        for instruction in instructions
        if instruction.keyword == "ARG" and instruction.arguments.startswith("APP_UID=")
    }
    [uid] = uids
    for name, workload in stack.workloads().items():
        context = pod_spec(workload)["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert {context["runAsUser"], context["runAsGroup"], context["fsGroup"]} == {int(uid)}
