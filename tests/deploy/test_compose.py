"""compose.yaml, rendered by the real Compose binary: valid under every profile, and wired as the
Python side expects (ports from DEFAULT_PORTS, the trainer's config, the services' settings)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.settings import DEFAULT_PORTS
from tests.deploy.wiring import (
    ROOT,
    SECRET,
    assert_judge_uses_server,
    assert_settings_environment,
    env_prefix,
    gpu_requests,
    option,
    seconds,
    trainer_config,
)

# The GPU map: which variable gives each GPU service its device(s).
GPU_VARIABLES = {
    "vllm": "VLLM_GPU",
    "judge-llm": "JUDGE_GPU",
    "style": "STYLE_GPU",
    "style-2": "STYLE_REPLICA_GPU",
    "trainer": "TRAINER_GPUS",
}
JOBS = {"trainer", "books"}  # run to completion; everything else is a long-running service
ALL_PROFILES = ("train", "data", "scale")
FOUR_GPUS = {
    "TRAINER_GPUS": "3,4,5,6",
    "TRAINER_ACCELERATE_CONFIG": "configs/accelerate/4gpu_ddp.yaml",
}
ZERO3 = {"TRAINER_GPUS": "3,4,5,6", "TRAINER_ACCELERATE_CONFIG": "configs/accelerate/zero3.yaml"}
TWO_STYLE_REPLICAS = {"TRAINER_ARGS": "--rewards.0.url http://style:8001,http://style-2:8001"}
TWO_GENERATION_GPUS = {
    **{"VLLM_GPU": "0,1", "VLLM_TENSOR_PARALLEL_SIZE": "2"},
    **{"JUDGE_GPU": "2", "STYLE_GPU": "3", "TRAINER_GPUS": "4"},
}


def reward_service(service: dict[str, Any]) -> str | None:
    """The reward service a compose service runs (its image's extra), or None."""
    extra: str | None = service.get("build", {}).get("args", {}).get("EXTRA")
    return extra


def listening_port(service: dict[str, Any]) -> int:
    """The port a service listens on in its container: its default, or its command's --port."""
    name = reward_service(service)
    return DEFAULT_PORTS[name] if name else int(option(service["command"], "--port"))


@pytest.mark.parametrize("profiles", [(), ("train",), ("data",), ("scale",), ALL_PROFILES])
def test_config_is_valid_and_every_variable_has_a_default(
    compose: Any, profiles: tuple[str, ...]
) -> None:
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    result = compose.run(*flags, "config", "-q", env_file=Path("/dev/null"))
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr, result.stderr


def test_profiles_add_the_trainer_the_books_job_and_the_replica(compose: Any) -> None:
    stack = {"vllm", "judge-llm", "style", "judge", "completeness"}
    assert set(compose.config()["services"]) == stack
    assert set(compose.config("train")["services"]) == stack | {"trainer"}
    assert set(compose.config("data")["services"]) == stack | {"books"}
    assert set(compose.config("scale")["services"]) == stack | {"style-2"}


def test_env_example_lists_every_variable(raw_compose: dict[str, Any], env_example: Any) -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    passed_through = {
        name
        for service in raw_compose["services"].values()
        for name, value in (service.get("environment") or {}).items()
        if value is None
    }
    assert env_example.names == interpolated | passed_through


def test_env_example_holds_the_defaults_compose_falls_back_to(compose: Any) -> None:
    for profiles in [(), ALL_PROFILES]:
        assert compose.config(*profiles) == compose.config(*profiles, env_file=Path("/dev/null"))


def test_each_gpu_service_reserves_exactly_the_gpus_of_its_variable(compose: Any) -> None:
    chosen = {"VLLM_GPU": "7", "JUDGE_GPU": "6", "STYLE_GPU": "5", "STYLE_REPLICA_GPU": "0"}
    chosen["TRAINER_GPUS"] = "1,2,3"
    services = compose.config(*ALL_PROFILES, env=chosen)["services"]
    for name, service in services.items():
        if name not in GPU_VARIABLES:
            assert gpu_requests(service) == [], f"{name} needs no GPU"
            continue
        assert gpu_requests(service) == [
            {
                "driver": "nvidia",
                "device_ids": [chosen[GPU_VARIABLES[name]]],
                "capabilities": ["gpu"],
            }
        ], name


def assert_no_gpu_is_shared(services: dict[str, Any]) -> None:
    """Each host GPU is reserved by one service at most."""
    owners: dict[str, str] = {}
    for name, service in services.items():
        for request in gpu_requests(service):
            for gpu in ",".join(request["device_ids"]).split(","):
                assert gpu not in owners, f"GPU {gpu} given to both {owners[gpu]} and {name}"
                owners[gpu] = name


def test_the_default_gpu_map_gives_each_service_its_own_gpus(
    compose: Any, env_example: Any
) -> None:
    services = compose.config(*ALL_PROFILES)["services"]
    assert_no_gpu_is_shared(services)
    for name, variable in GPU_VARIABLES.items():
        assert gpu_requests(services[name])[0]["device_ids"] == [env_example.values[variable]]


def test_trainer_waits_for_every_service_to_be_healthy(compose: Any) -> None:
    services = compose.config("train")["services"]
    long_running = set(services) - JOBS
    assert services["trainer"]["depends_on"] == {
        name: {"condition": "service_healthy", "required": True} for name in long_running
    }
    assert services["judge"]["depends_on"] == {
        "judge-llm": {"condition": "service_healthy", "required": True}
    }


def test_every_service_has_a_healthcheck_on_its_own_port(compose: Any) -> None:
    for name, service in compose.config(*ALL_PROFILES)["services"].items():
        if name in JOBS:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        check = service["healthcheck"]
        assert check["test"][0] == "CMD" and not check.get("disable"), name
        url = urlsplit(next(arg for arg in check["test"] if arg.startswith("http://")))
        path = "/ready" if reward_service(service) else "/health"
        assert (url.hostname, url.port, url.path) == ("127.0.0.1", listening_port(service), path)
        # Model loads take minutes: failures before then must not count.
        assert seconds(check["start_period"]) >= 60, name
        assert seconds(check["timeout"]) < seconds(check["interval"]), name


def test_reward_services_listen_and_publish_on_their_default_ports(compose: Any) -> None:
    services = compose.config("scale")["services"]
    published = []
    for name, service in services.items():
        if (reward := reward_service(service)) is None:
            continue
        prefix = env_prefix(reward)
        assert service["environment"][f"{prefix}HOST"] == "0.0.0.0", name
        assert f"{prefix}PORT" not in service["environment"], f"{name} must keep its default port"
        [port] = service["ports"]
        assert (port["target"], port["host_ip"]) == (DEFAULT_PORTS[reward], "127.0.0.1"), name
        published.append(int(port["published"]))
        if name == reward:  # the replica is published elsewhere; the main one where clients look
            assert int(port["published"]) == DEFAULT_PORTS[reward], name
    assert len(published) == len(set(published)), f"two services published on one port: {published}"


def test_service_environments_name_real_settings_that_validate(
    compose: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in compose.config("scale")["services"].items():
        if (reward := reward_service(service)) is not None:
            assert_settings_environment(name, reward, service["environment"], tmp_path, monkeypatch)


def test_judge_uses_the_judge_llm_server(compose: Any) -> None:
    services = compose.config()["services"]
    server = services["judge-llm"]
    assert_judge_uses_server(
        services["judge"]["environment"], server["command"], "judge-llm", listening_port(server)
    )


@pytest.mark.parametrize(
    ("profiles", "env"),
    [
        (("train",), {}),
        (("train",), FOUR_GPUS),
        (("train",), ZERO3),
        (("train", "scale"), TWO_STYLE_REPLICAS),
        (("train",), TWO_GENERATION_GPUS),
    ],
    ids=["1-gpu", "4-gpus-ddp", "4-gpus-zero3", "2-style-replicas", "2-generation-gpus"],
)
def test_trainer_reaches_every_service_where_compose_serves_it(
    compose: Any, profiles: tuple[str, ...], env: dict[str, str]
) -> None:
    services = compose.config(*profiles, env=env)["services"]
    assert_no_gpu_is_shared(services)
    trainer = services["trainer"]
    config, accelerate_config = trainer_config(trainer["command"])
    for spec in config.rewards:
        for url in spec.urls:
            parts = urlsplit(url)
            assert parts.hostname in services, f"{spec.name}: no compose service at {url}"
            target = services[parts.hostname]
            assert reward_service(target) == spec.service, f"{spec.name}: {url}"
            assert parts.port == DEFAULT_PORTS[spec.service], f"{spec.name}: {url}"
    vllm = services["vllm"]
    assert vllm["command"][:2] == ["trl", "vllm-serve"]
    [vllm_gpus] = gpu_requests(vllm)[0]["device_ids"]
    assert option(vllm["command"], "--tensor-parallel-size") == str(len(vllm_gpus.split(",")))
    generation = urlsplit(config.grpo["vllm_server_base_url"])
    assert (config.grpo["use_vllm"], config.grpo["vllm_mode"]) == (True, "server")
    assert (generation.hostname, generation.port) == ("vllm", listening_port(vllm))
    assert config.model == option(vllm["command"], "--model"), "vllm must serve the trained policy"
    launch = yaml.safe_load(accelerate_config.read_text(encoding="utf-8"))
    [gpus] = gpu_requests(trainer)[0]["device_ids"]
    assert launch["num_processes"] == len(gpus.split(",")), "one process per trainer GPU"


def test_trainer_exposes_the_weight_sync_port(compose: Any) -> None:
    from trl.trainer.grpo_config import GRPOConfig

    trainer = compose.config("train")["services"]["trainer"]
    config, _ = trainer_config(trainer["command"])
    default = {f.name: f.default for f in fields(GRPOConfig)}["vllm_group_port"]
    assert str(config.grpo.get("vllm_group_port", default)) in trainer["expose"]
    assert trainer["ipc"] == "host"
    assert compose.config()["services"]["vllm"]["ipc"] == "host"


def volume(service: dict[str, Any], target: str) -> dict[str, Any]:
    """The mount of a service at `target`."""
    mounts = {mount["target"]: mount for mount in service.get("volumes", [])}
    assert target in mounts, f"nothing mounted at {target}"
    mount: dict[str, Any] = mounts[target]
    return mount


def test_caches_books_and_runs_live_in_volumes(compose: Any, dockerfiles: Any) -> None:
    services = compose.config(*ALL_PROFILES)["services"]
    hf_home = {
        name: next(
            i.arguments.split("HF_HOME=")[1].split()[0]
            for i in instructions
            if i.keyword == "ENV" and "HF_HOME=" in i.arguments
        )
        for name, instructions in dockerfiles.items()
    }
    for name in ("vllm", "judge-llm", "style", "style-2", "judge", "trainer"):
        image = Path(services[name]["build"]["dockerfile"]).name.removesuffix(".Dockerfile")
        mount = volume(services[name], hf_home[image])
        assert (mount["type"], mount["source"]) == ("volume", "hf-cache"), name
    for name in ("style", "style-2"):
        environment = services[name]["environment"]
        assert volume(services[name], environment["STYLE_CACHE_DIR"])["source"] == "style-cache"
        books = volume(services[name], environment["STYLE_BOOKS_DIR"])
        assert (books["source"], books.get("read_only")) == ("books", True), name
    job = services["books"]
    out = re.search(r"--out (\S+)", job["command"][-1])
    assert out is not None
    assert volume(job, out.group(1))["source"] == "books"
    config, _ = trainer_config(services["trainer"]["command"])
    runs = volume(services["trainer"], "/app/runs")
    assert runs["source"] == "runs"
    assert (Path("/app") / config.run_dir).is_relative_to(runs["target"])


def test_a_host_folder_can_replace_the_books_and_runs_volumes(compose: Any) -> None:
    env = {"BOOKS": "./data/books", "RUNS": "/srv/runs"}
    services = compose.config(*ALL_PROFILES, env=env)["services"]
    for name, target in [
        ("style", "/data/books"),
        ("books", "/data/books"),
        ("trainer", "/app/runs"),
    ]:
        mount = volume(services[name], target)
        assert mount["type"] == "bind", name
    assert volume(services["style"], "/data/books")["source"] == str(ROOT / "data" / "books")


def test_no_secret_has_a_value(
    raw_compose: dict[str, Any], compose: Any, env_example: Any, dockerfiles: Any
) -> None:
    for name, service in raw_compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET.search(key):
                assert value is None, f"{name}: {key} must be passed through, not written here"
    for name, service in compose.config(*ALL_PROFILES)["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET.search(key):
                assert value is None, f"{name}: {key} has a value from .env.example"
        assert not any(SECRET.search(arg.upper()) for arg in service.get("command") or []), name
    assert not any(SECRET.search(key) for key in env_example.values)
    assert all(value == "" for key, value in env_example.commented.items() if SECRET.search(key))
    for image, instructions in dockerfiles.items():
        for instruction in instructions:
            if instruction.keyword in ("ENV", "ARG"):
                assert not SECRET.search(instruction.arguments), f"{image}: {instruction}"


def test_images_carry_the_project_version(compose: Any) -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    images: dict[str, set[str]] = {}
    for name, service in compose.config(*ALL_PROFILES)["services"].items():
        repository, tag = service["image"].rsplit(":", 1)
        assert tag == version, f"{name}: {service['image']}"
        build = service["build"]
        images.setdefault(repository, set()).add(f"{build['dockerfile']} {build.get('args')}")
        if (reward := reward_service(service)) is not None:
            assert reward in extras and repository == f"stylegrpo/{reward}", name
    assert all(len(builds) == 1 for builds in images.values()), f"one build per image: {images}"
