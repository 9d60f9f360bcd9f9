"""What a kubelet decides from a pod object alone: the container's env (downward API resolved),
its argv (with `$(VAR)` references expanded), which local program stands in for the image's
command, and the status documents it reports. Pure functions, kept apart from the stand-in's I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# fieldRef paths a kubelet resolves (the subset of the downward API a runner pod can use).
_LABEL_OR_ANNOTATION = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
_VAR_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class PodSpecError(ValueError):
    """The pod asks for something this stand-in cannot provide; the message says what."""


def field_value(pod: Mapping[str, Any], path: str) -> str:
    """Resolve a downward-API fieldRef path against the pod, as the kubelet does."""
    metadata = pod.get("metadata", {})
    spec = pod.get("spec", {})
    simple = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": "127.0.0.1",
        "status.podIP": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path])
    match = _LABEL_OR_ANNOTATION.match(path)
    if match:
        # A missing key resolves to "" in Kubernetes, not an error.
        return str(metadata.get(match.group(1), {}).get(match.group(2), ""))
    raise PodSpecError(f"unsupported fieldRef {path!r}")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names are replaced, `$$` escapes, the rest stays."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_REFERENCE.sub(replace, text)


def container_env(pod: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, str]:
    """The container's declared env, in order, with values, expansions and fieldRefs resolved.

    configMapKeyRef/secretKeyRef and envFrom are refused with a clear error: no runner uses them.
    """
    if container.get("envFrom"):
        raise PodSpecError("envFrom is not supported by the kubelet stand-in")
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        name = item["name"]
        if "value" in item:
            env[name] = expand(str(item["value"]), env)
            continue
        source = item.get("valueFrom") or {}
        if "fieldRef" in source:
            env[name] = field_value(pod, source["fieldRef"]["fieldPath"])
        elif not source:
            env[name] = ""
        else:
            raise PodSpecError(
                f"env {name}: {sorted(source)} is not supported by the kubelet stand-in"
            )
    return env


@dataclass(frozen=True)
class Launch:
    """What to run for one container: argv (local program first) and its declared env."""

    argv: list[str]
    env: dict[str, str]


def plan_launch(
    pod: Mapping[str, Any], container: Mapping[str, Any], commands: Mapping[str, str]
) -> Launch:
    """Map the container's command onto a local program; commands maps command[0] to a path.

    Only the pod's own command and args run; a container without a command (the image's
    entrypoint) or with an unmapped program is refused, never guessed.
    """
    command = list(container.get("command") or [])
    if not command:
        raise PodSpecError(
            f"container {container.get('name')!r} has no command;"
            " the stand-in runs only explicit commands"
        )
    program = commands.get(command[0])
    if program is None:
        raise PodSpecError(
            f"the kubelet stand-in has no local program for {command[0]!r}"
            f" (it runs {sorted(commands)})"
        )
    env = container_env(pod, container)
    args = [expand(str(arg), env) for arg in [*command[1:], *(container.get("args") or [])]]
    return Launch(argv=[program, *args], env=env)


def _condition(kind: str, status: bool, now: str, reason: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "type": kind,
        "status": "True" if status else "False",
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }
    if reason:
        condition["reason"] = reason
    return condition


def running_status(
    pod: Mapping[str, Any], container: str, started: str, container_id: str
) -> dict[str, Any]:
    """Status of a pod whose one container runs and is ready (there are no probes)."""
    image = _image(pod, container)
    return {
        "phase": "Running",
        "startTime": started,
        "hostIP": "127.0.0.1",
        "conditions": [
            _condition("PodReadyToStartContainers", True, started),
            _condition("Initialized", True, started),
            _condition("Ready", True, started),
            _condition("ContainersReady", True, started),
            _condition("PodScheduled", True, started),
        ],
        "containerStatuses": [
            {
                "name": container,
                "image": image,
                "imageID": image,
                "containerID": container_id,
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            }
        ],
    }


def terminated_status(
    pod: Mapping[str, Any],
    container: str,
    *,
    started: str,
    finished: str,
    exit_code: int,
    reason: str,
    message: str = "",
    container_id: str = "",
    pod_reason: str = "",
) -> dict[str, Any]:
    """Status of a pod whose container ended: Succeeded on exit 0, Failed otherwise (restartPolicy
    Never), with the exit code where the Job controller's podFailurePolicy looks for it."""
    image = _image(pod, container)
    terminated: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": started,
        "finishedAt": finished,
    }
    if message:
        terminated["message"] = message
    if container_id:
        terminated["containerID"] = container_id
    status: dict[str, Any] = {
        "phase": "Succeeded" if exit_code == 0 and not pod_reason else "Failed",
        "startTime": started,
        "hostIP": "127.0.0.1",
        "conditions": [
            _condition("PodReadyToStartContainers", False, finished),
            _condition("Initialized", True, started),
            _condition("Ready", False, finished, "PodCompleted"),
            _condition("ContainersReady", False, finished, "PodCompleted"),
            _condition("PodScheduled", True, started),
        ],
        "containerStatuses": [
            {
                "name": container,
                "image": image,
                "imageID": image,
                "containerID": container_id,
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"terminated": terminated},
            }
        ],
    }
    if pod_reason:
        status["reason"] = pod_reason
        status["message"] = message
    return status


def exit_reason(exit_code: int) -> str:
    """The container reason a kubelet reports for an exit code."""
    return "Completed" if exit_code == 0 else "Error"


def _image(pod: Mapping[str, Any], container: str) -> str:
    for item in pod.get("spec", {}).get("containers", []):
        if item.get("name") == container:
            return str(item.get("image", ""))
    return ""
