"""The trainer of deploy/kubernetes/: an indexed Job whose pods launch accelerate together, reach
each reward through its Service name with the same run config compose uses, wait for the stack as
compose's depends_on does, and open the weight-sync port to the generation server."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from urllib.parse import urlsplit

import yaml

from shared.settings import DEFAULT_PORTS
from tests.deploy.conftest import OVERLAYS
from tests.deploy.manifests import (
    Manifests,
    container,
    field_value,
    gpus,
    pod_spec,
    secret_references,
)
from tests.deploy.wiring import env_prefix, gpu_requests, option, trainer_config

JOB_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
# An init container runs the images' healthcheck (compose's) until it passes.
WAIT_LOOP = 'until python /app/docker/healthcheck.py "$@"; do sleep 10; done'


def service_port(stack: Manifests, name: str) -> int:
    """The one port of the Service `name`."""
    [port] = stack.get("Service", name)["spec"]["ports"]
    number: int = port["port"]
    return number


def test_trainer_calls_each_reward_by_its_service_name(stack: Manifests, composed: Any) -> None:
    main = container(stack.get("Job", "trainer"))
    config, _ = trainer_config(stack.command(main))
    on_compose, _ = trainer_config(composed["services"]["trainer"]["command"])
    assert [spec.urls for spec in config.rewards] == [spec.urls for spec in on_compose.rewards]
    keys = secret_references(main)
    for spec in config.rewards:
        # One URL: the Service spreads the requests over its ready pods.
        [url] = spec.urls
        parts = urlsplit(url)
        assert parts.hostname is not None
        target = stack.selected_by(parts.hostname)
        assert container(target)["image"].rsplit(":", 1)[0] == f"stylegrpo/{spec.service}"
        assert parts.port == service_port(stack, parts.hostname) == DEFAULT_PORTS[spec.service]
        service_key = secret_references(container(target))[f"{env_prefix(spec.service)}API_KEY"]
        assert spec.api_key_env is not None, f"{spec.name}: the services require their keys"
        assert keys[spec.api_key_env] == service_key, spec.name
    generation = urlsplit(config.grpo["vllm_server_base_url"])
    assert generation.hostname is not None
    server = stack.selected_by(generation.hostname)
    assert server["metadata"]["name"] == "vllm"
    assert generation.port == service_port(stack, "vllm")
    assert config.model == option(stack.command(container(server)), "--model")


def test_trainer_launches_accelerate_across_its_indexed_pods(stack: Manifests) -> None:
    job = stack.get("Job", "trainer")
    spec, pod, main = job["spec"], pod_spec(job), container(job)
    command = stack.command(main)
    machines = int(option(command, "--num_machines"))
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == machines
    assert option(command, "--machine_rank") == field_value(JOB_INDEX)
    assert int(option(command, "--num_processes")) == gpus(main) * machines, "one per GPU"
    _, accelerate_config = trainer_config(command)
    launch = yaml.safe_load(accelerate_config.read_text(encoding="utf-8"))
    if machines == 1:
        assert launch["num_processes"] == gpus(main)
    else:
        assert launch["distributed_type"] in {"MULTI_GPU", "DEEPSPEED"}
    # Pod i is trainer-i.<subdomain>: the main process is pod 0's.
    host, _, subdomain = option(command, "--main_process_ip").partition(".")
    assert (host, subdomain) == (f"{job['metadata']['name']}-0", pod["subdomain"])
    names = stack.get("Service", subdomain)["spec"]
    assert names["clusterIP"] == "None" and names["publishNotReadyAddresses"] is True
    assert stack.selected_by(subdomain) is job
    rendezvous = int(option(command, "--main_process_port"))
    assert rendezvous in {port["port"] for port in names["ports"]}
    assert rendezvous in {port["containerPort"] for port in main["ports"]}
    # A lost pod breaks the collective: fail the Job and resume from a checkpoint.
    assert (spec["backoffLimit"], pod["restartPolicy"]) == (0, "Never")


def test_the_overlays_size_the_trainer_from_compose_s_one_gpu_to_several_nodes(
    kustomize: Any, composed: Any
) -> None:
    sizes = {}
    for overlay in OVERLAYS:
        stack = Manifests(kustomize.render(f"overlays/{overlay}"))
        job = stack.get("Job", "trainer")
        _, accelerate_config = trainer_config(stack.command(container(job)))
        sizes[(job["spec"]["completions"], gpus(container(job)))] = accelerate_config
    assert set(sizes) == {(1, 1), (1, 4), (2, 4)}
    trainer = composed["services"]["trainer"]
    [reserved] = [gpu for request in gpu_requests(trainer) for gpu in request["device_ids"]]
    _, on_compose = trainer_config(trainer["command"])
    assert sizes[(1, len(reserved.split(",")))] == on_compose, "one-gpu is compose's default"


def test_trainer_opens_the_weight_sync_port_at_its_own_address(
    stack: Manifests, composed: Any
) -> None:
    from trl.trainer.grpo_config import GRPOConfig

    job = stack.get("Job", "trainer")
    main = container(job)
    config, _ = trainer_config(stack.command(main))
    default = {f.name: f.default for f in fields(GRPOConfig)}["vllm_group_port"]
    port = int(config.grpo.get("vllm_group_port", default))
    assert str(port) in composed["services"]["trainer"]["expose"]
    assert port in {p["containerPort"] for p in main["ports"]}
    assert port in {
        p["port"] for p in stack.get("Service", pod_spec(job)["subdomain"])["spec"]["ports"]
    }
    # vLLM's workers dial the address the trainer announces: its pod's.
    assert stack.environment(main)["VLLM_HOST_IP"] == field_value("status.podIP")


def waited_for(stack: Manifests, workload: dict[str, Any]) -> set[str]:
    """The workloads a pod's init containers wait for, each checked on its readiness path with
    the key its service requires."""
    waited = set()
    for init in pod_spec(workload).get("initContainers", []):
        command = stack.command(init)
        assert command[:3] == ["sh", "-c", WAIT_LOOP], init["name"]
        checked = command[4:]
        url = urlsplit(checked[0])
        assert url.hostname is not None
        target = stack.selected_by(url.hostname)
        name = target["metadata"]["name"]
        reward = name in DEFAULT_PORTS
        assert url.path == ("/ready" if reward else "/health"), checked
        assert url.port == service_port(stack, url.hostname), checked
        if reward:
            variable = option(checked, "--api-key-env")
            assert variable == f"{env_prefix(name)}API_KEY"
            expected = secret_references(container(target))[variable]
            assert secret_references(init)[variable] == expected, init["name"]
        waited.add(name)
    return waited


def test_pods_wait_for_what_compose_waits_for(stack: Manifests, composed: Any) -> None:
    for name, workload in stack.workloads().items():
        expected = set(composed["services"][name].get("depends_on", {}))
        assert waited_for(stack, workload) == expected, name
