"""`python -m devcluster`: the development cluster, standalone, for the demo and for poking at.

Starts etcd, kube-apiserver and kube-controller-manager on loopback (optionally the kubelet
stand-in), prints how to point kubectl and helm at them, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import shutil
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from devcluster.cluster import ControlPlane, ControlPlaneError, build_binaries
from devcluster.kubelet import KubeletStandIn

# Marks a state folder as ours, so a re-run may clear it and nothing else is ever wiped.
STATE_MARKER = ".scheduledrun-cluster"


def prepare_state_dir(folder: Path) -> None:
    """Make folder an empty state folder: create it, or clear one a previous run left."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / STATE_MARKER).exists():
            raise click.ClickException(
                f"{folder} is not empty and was not made by `python -m devcluster`"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STATE_MARKER).write_text("state of `python -m devcluster`; cleared on the next run\n")


@click.command()
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep certificates, kubeconfig, etcd data and logs here"
    " (default: a temporary folder removed on exit).",
)
@click.option(
    "--kubelet/--no-kubelet", default=False, help="Also run the kubelet stand-in for runner pods."
)
def cluster_command(state_dir: Path | None, kubelet: bool) -> None:
    """Run a local Kubernetes control plane (built from source, cached) until Ctrl-C."""
    if state_dir is not None:
        prepare_state_dir(state_dir.resolve())
    try:
        bin_dir = build_binaries()
    except ControlPlaneError as exc:
        raise click.ClickException(str(exc)) from exc
    plane = ControlPlane(bin_dir, state_dir.resolve() if state_dir else None)
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        plane.start()
    except ControlPlaneError as exc:
        raise click.ClickException(str(exc)) from exc
    standin: KubeletStandIn | None = None
    try:
        if kubelet:
            standin = KubeletStandIn(plane.server, plane.ssl_context(), plane.ca_file)
            standin.start()
        click.echo(f"control plane ready in {plane.started_seconds:.1f}s at {plane.server}")
        if standin is not None:
            click.echo(f"kubelet stand-in running as node {standin.node_name}")
        click.echo(f"logs: {plane.state_dir}")
        click.echo(f"export KUBECONFIG={plane.kubeconfig}")
        click.echo(f"export PATH={bin_dir}:$PATH   # kubectl and helm built with it")
        click.echo("Ctrl-C stops it", err=True)
        try:
            while not stopped.wait(1):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        if standin is not None:
            standin.stop()
        plane.stop()
        click.echo("control plane stopped", err=True)
