"""Rendered Kubernetes objects read the way the kubelet reads them: a container's environment
with ConfigMap values and `$(VAR)` references resolved in order, its command expanded, and the
workload a Service's selector picks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

GPU = "nvidia.com/gpu"
WORKLOAD_KINDS = ("Deployment", "Job")
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def field_value(path: str) -> str:
    """What stands for a `fieldRef` variable, whose value only the running pod has."""
    return f"<{path}>"


def expand(text: str, environment: dict[str, str | None]) -> str:
    """`$(NAME)` replaced by the value of NAME, as Kubernetes does; `$$` is a literal `$`, and a
    reference to a variable not set (or not known before run time) stays as written.

    >>> expand("--model $(MODEL) $$(MODEL) $(NONE)", {"MODEL": "m"})
    '--model m $(MODEL) $(NONE)'
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        value = environment.get(name)
        return match.group(0) if value is None else value

    return _REFERENCE.sub(replace, text)


@dataclass(frozen=True)
class Manifests:
    """The objects one kustomization renders."""

    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        """The objects of `kind`, by name."""
        return {o["metadata"]["name"]: o for o in self.objects if o["kind"] == kind}

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """The `kind` object called `name`."""
        found = self.of_kind(kind)
        assert name in found, f"no {kind} {name}; there are {sorted(found)}"
        return found[name]

    def workloads(self) -> dict[str, dict[str, Any]]:
        """Deployments and Jobs, by name."""
        return {name: o for kind in WORKLOAD_KINDS for name, o in self.of_kind(kind).items()}

    def selected_by(self, service: str) -> dict[str, Any]:
        """The one workload whose pods the Service `service` selects."""
        selector = self.get("Service", service)["spec"]["selector"]
        chosen = [
            workload
            for workload in self.workloads().values()
            if selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(chosen) == 1, f"Service {service} selects {len(chosen)} workloads"
        return chosen[0]

    def environment(self, container: dict[str, Any]) -> dict[str, str | None]:
        """A container's variables: values with earlier variables expanded, ConfigMap keys read
        from the rendered ConfigMaps, fieldRefs as `field_value`, secrets as None (their values
        live in the cluster, never in a manifest)."""
        resolved: dict[str, str | None] = {}
        config_maps = self.of_kind("ConfigMap")
        for variable in container.get("env", []):
            name, source = variable["name"], variable.get("valueFrom", {})
            if "configMapKeyRef" in source:
                reference = source["configMapKeyRef"]
                resolved[name] = config_maps[reference["name"]]["data"][reference["key"]]
            elif "fieldRef" in source:
                resolved[name] = field_value(source["fieldRef"]["fieldPath"])
            elif source:
                assert set(source) == {"secretKeyRef"}, f"{name}: {source}"
                resolved[name] = None
            else:
                resolved[name] = expand(variable.get("value", ""), resolved)
        return resolved

    def command(self, container: dict[str, Any]) -> list[str]:
        """The container's command and arguments as the kubelet runs them."""
        environment = self.environment(container)
        words = [*container.get("command", []), *container.get("args", [])]
        return [expand(word, environment) for word in words]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Deployment or Job."""
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """A container of a workload: `name`, else the one named after the workload."""
    wanted = name or workload["metadata"]["name"]
    containers = {c["name"]: c for c in pod_spec(workload)["containers"]}
    assert wanted in containers, f"{workload['metadata']['name']} has no container {wanted}"
    return containers[wanted]


def secret_references(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The container's variables read from Secrets: name -> its secretKeyRef."""
    return {
        variable["name"]: variable["valueFrom"]["secretKeyRef"]
        for variable in container.get("env", [])
        if "secretKeyRef" in variable.get("valueFrom", {})
    }


def gpus(container: dict[str, Any]) -> int:
    """The GPUs a container asks for (requests and limits must agree for a device)."""
    resources = container.get("resources", {})
    requested = resources.get("requests", {}).get(GPU)
    limited = resources.get("limits", {}).get(GPU)
    assert requested == limited, f"{container['name']}: GPU requests {requested}, limits {limited}"
    return int(limited or 0)


def claim_mounts(
    workload: dict[str, Any], container: dict[str, Any]
) -> dict[str, tuple[str, bool]]:
    """Where a container mounts PersistentVolumeClaims: path -> (claim, read-only)."""
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]
        for volume in pod_spec(workload).get("volumes", [])
        if "persistentVolumeClaim" in volume
    }
    mounts: dict[str, tuple[str, bool]] = {}
    for mount in container.get("volumeMounts", []):
        if mount["name"] in claims:
            claim = claims[mount["name"]]
            read_only = bool(mount.get("readOnly"))
            assert read_only == bool(claim.get("readOnly")), f"{mount}: claim and mount disagree"
            mounts[mount["mountPath"]] = (claim["claimName"], read_only)
    return mounts


def memory_mounts(workload: dict[str, Any], container: dict[str, Any]) -> set[str]:
    """Where a container mounts a memory-backed emptyDir."""
    in_memory = {
        volume["name"]
        for volume in pod_spec(workload).get("volumes", [])
        if volume.get("emptyDir", {}).get("medium") == "Memory"
    }
    return {m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in in_memory}
