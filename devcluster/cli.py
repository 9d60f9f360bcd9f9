"""`python -m devcluster`: the development cluster, standalone, for the demo and for poking at.

Starts etcd, kube-apiserver and kube-controller-manager on loopback and a real node (containerd,
kubelet, kube-scheduler; the project's images imported), prints how to point kubectl and helm at
them, and stops everything on Ctrl-C, putting back every host setting the node changed.
"""

from __future__ import annotations

import shutil
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from devcluster.cluster import ControlPlane, ControlPlaneError, build_binaries
from devcluster.images import build_images
from devcluster.node import Node

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
    "--node/--no-node",
    default=True,
    show_default=True,
    help="Also run a real node (needs root): containerd, kubelet, kube-scheduler.",
)
def cluster_command(state_dir: Path | None, node: bool) -> None:
    """Run a local Kubernetes control plane (built from source, cached) until Ctrl-C."""
    # Python turns SIGINT into KeyboardInterrupt only when SIGINT was not ignored at its start;
    # a command started in the background of a non-interactive shell inherits it ignored. Ctrl-C
    # must stop the cluster however it was started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if state_dir is not None:
        prepare_state_dir(state_dir.resolve())
    try:
        bin_dir = build_binaries()
        images = build_images() if node else None
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
    real_node: Node | None = None
    try:
        click.echo(f"control plane ready in {plane.started_seconds:.1f}s at {plane.server}")
        if images is not None:
            real_node = Node(plane, images.archives)
            try:
                real_node.start()
            except ControlPlaneError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(f"node {real_node.name} ready in {real_node.started_seconds:.1f}s")
            click.echo(f"images: {images.operator} {images.runner} (imagePullPolicy: Never)")
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
        # A second Ctrl-C must not cut the clean-up short (host settings are put back there).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if real_node is not None:
            real_node.stop()
        plane.stop()
        click.echo("control plane stopped", err=True)
