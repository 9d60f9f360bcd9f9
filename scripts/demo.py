"""The demo: the whole product on a local control plane, until Ctrl-C.

Starts etcd, kube-apiserver and kube-controller-manager on loopback and a real node
(containerd + runc, kubelet, kube-scheduler, with the images scripts/images.sh built imported),
an a2a-sdk agent, `helm install`s the chart from those images (the operator runs as the chart's
Deployment, a real pod), serves the REST API and the web UI (printing its address), applies a
ScheduledRun, triggers one run (a real runner container), and shows `kubectl get sr`, the
history and `kubectl logs` of the run. Then it keeps running (new ticks are printed as they land)
until Ctrl-C, stops everything and puts back every host setting the node changed.

However it ends, it stops everything and removes its temporary folders: Ctrl-C, SIGTERM, SIGHUP
(the terminal closed) and a closed output pipe (`| tee log`, then Ctrl-C) all go through the same
clean-up, whose own output can fail without cutting it short; and every child process dies with
the demo even if it is killed outright (devcluster/children.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from devcluster.cluster import ControlPlane, build_binaries, eventually
from devcluster.images import build_images
from devcluster.node import Node
from devcluster.server import ServerProcess
from devcluster.stack import Stack, sr_path

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "scripts" / "demo-scheduledrun.yaml"
NAMESPACE = "demo"
NAME = "nightly-report"


# Signals that end the demo as Ctrl-C does: a `kill`, and the terminal closing.
ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(text: str) -> None:
    click.secho(f"\n==> {text}", fg="cyan", bold=True)


def _silence_output() -> None:
    """Send what is still printed to /dev/null: stdout or stderr is a closed pipe or a hung-up
    terminal, and the clean-up must go on (and the interpreter's last flush must not fail)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)


def tell(print_it: Any) -> None:
    """Print during the clean-up; a failing output (closed pipe, closed terminal) is silenced."""
    try:
        print_it()
    except OSError:
        _silence_output()


def show(plane: ControlPlane, *args: str) -> None:
    """Run a command the way a user would type it, and print both."""
    printable = " ".join(args)
    click.secho(f"$ {printable}", fg="yellow")
    if args[0] == "kubectl":
        result = plane.kubectl(*args[1:], check=False)
    else:
        scheduledrun = str(Path(sys.executable).with_name("scheduledrun"))
        result = subprocess.run(
            [scheduledrun, *args[1:]], env=plane.env, capture_output=True, text=True, check=False
        )
    click.echo((result.stdout + result.stderr).rstrip())


def history_ids(plane: ControlPlane) -> list[str]:
    with plane.client() as client:
        obj: dict[str, Any] = client.get(sr_path(NAMESPACE, NAME)).json()
    return [
        e["id"]
        for e in (obj.get("status") or {}).get("runHistory") or []
        if e.get("status") != "Pending"
    ]


def _interrupt(*_: object) -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop the demo alike. Installed for SIGINT too: Python turns
    SIGINT into KeyboardInterrupt only when SIGINT was not ignored at its start, and a command
    started in the background of a non-interactive shell inherits it ignored."""
    raise KeyboardInterrupt


@click.command()
@click.option("--once", is_flag=True, help="Stop after the triggered run instead of waiting.")
def main(once: bool) -> None:
    """Run the demo until Ctrl-C."""
    for ending in ENDING_SIGNALS:
        signal.signal(ending, _interrupt)
    plane: ControlPlane | None = None
    node: Node | None = None
    stack: Stack | None = None
    server: ServerProcess | None = None
    try:
        say("starting etcd, kube-apiserver and kube-controller-manager on loopback")
        images = build_images()
        plane = ControlPlane(build_binaries())
        plane.start()  # a failed or interrupted start stops what it started
        node = Node(plane, images.archives)
        stack = Stack(plane, node, images)
        server = ServerProcess(plane, "local")
        say("a real node: containerd + runc, kubelet, kube-scheduler (real containers)")
        node.start()
        click.echo(f"images:        {images.operator}  {images.runner}")
        say("demo agent, `helm install` from those images, operator pod Ready")
        stack.start()
        click.echo(f"agent server:  {stack.agents.base_url if stack.agents else '?'}")
        click.echo("operator log:  kubectl -n kagent-system logs deployment/kagent-scheduledrun")
        say("REST API and web UI: `scheduledrun serve --auth-mode local` (your kubeconfig)")
        server.start()
        click.echo(f"web UI:        {server.url}/ui/")
        click.echo(f"REST API:      {server.url}/api/scheduledruns  (OpenAPI: /api/openapi.json)")
        plane.kubectl("create", "namespace", NAMESPACE)
        plane.kubectl(
            "label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted"
        )
        plane.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps(
                {
                    "apiVersion": "kagent.dev/v1alpha2",
                    "kind": "Agent",
                    "metadata": {"name": "echo-agent", "namespace": NAMESPACE},
                    "spec": {},
                }
            ),
        )

        say("apply a ScheduledRun")
        show(plane, "kubectl", "apply", "-f", str(MANIFEST.relative_to(REPO)))
        eventually(
            "the ScheduledRun accepted",
            lambda: (
                plane.kubectl(
                    "-n",
                    NAMESPACE,
                    "get",
                    "sr",
                    NAME,
                    "-o",
                    "jsonpath={.status.conditions[?(@.type=='Accepted')].status}",
                ).stdout
                == "True"
            ),
            timeout=60,
        )
        show(plane, "kubectl", "-n", NAMESPACE, "get", "sr")
        show(
            plane,
            "kubectl",
            "-n",
            NAMESPACE,
            "get",
            "cronjobs",
            "-l",
            f"kagent.dev/scheduledrun={NAME}",
        )

        say("run it now")
        show(plane, "scheduledrun", "trigger", NAME, "-n", NAMESPACE)
        show(plane, "kubectl", "-n", NAMESPACE, "get", "sr")
        show(plane, "scheduledrun", "history", NAME, "-n", NAMESPACE)
        triggered = history_ids(plane)
        if triggered:
            show(plane, "kubectl", "-n", NAMESPACE, "logs", f"job/{triggered[0]}")
        if once:
            return

        say("waiting for scheduled ticks (every two minutes); Ctrl-C stops everything")
        click.echo(f"in another shell:  export KUBECONFIG={plane.kubeconfig}")
        click.echo(f"in a browser:      {server.url}/ui/")
        seen = set(history_ids(plane))
        while True:
            time.sleep(2)
            now = history_ids(plane)
            if set(now) - seen:
                seen |= set(now)
                show(plane, "kubectl", "-n", NAMESPACE, "get", "sr")
                show(plane, "scheduledrun", "history", NAME, "-n", NAMESPACE)
    except (KeyboardInterrupt, BrokenPipeError):
        tell(lambda: click.echo(""))
    finally:
        # A terminal's Ctrl-C may arrive more than once; none may cut the clean-up short.
        for ending in ENDING_SIGNALS:
            signal.signal(ending, signal.SIG_IGN)
        tell(
            lambda: say(
                "stopping: web UI and API, chart, agent, node (host settings put back),"
                " control plane"
            )
        )
        if server is not None:
            server.stop()
            server.log.unlink(missing_ok=True)
        if stack is not None:
            stack.stop()
        if node is not None:
            node.stop()
        if plane is not None:
            plane.stop()
        tell(lambda: click.echo("stopped; nothing left running"))


if __name__ == "__main__":
    main()
