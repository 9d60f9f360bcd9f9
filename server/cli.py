"""`scheduledrun serve`: the REST API on uvicorn.

`--auth-mode client` (the default, for a cluster): every Kubernetes call is made with the
caller's bearer token; the server needs only where the apiserver is and its CA (in a pod, from
the environment and the kube-root-ca.crt file; it holds no token). `--auth-mode local` (a
workstation): the kubeconfig's credentials, on a loopback address only.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import click

from runner import api
from runner.kube import ConfigError, load_credentials
from server.auth import AuthMode, is_loopback_host
from server.kube import Cluster


def client_mode_cluster(server: str | None, ca_file: str | None) -> Cluster:
    """Where the apiserver is, without any credentials: flags, else the pod's environment."""
    if server is None:
        host, port = (
            os.environ.get("KUBERNETES_SERVICE_HOST"),
            os.environ.get("KUBERNETES_SERVICE_PORT"),
        )
        if not host or not port:
            raise click.UsageError("--apiserver is required outside a pod")
        host = f"[{host}]" if ":" in host else host
        server = f"https://{host}:{port}"
    if ca_file is None:
        folder = Path(os.environ.get(api.ENV_SERVICEACCOUNT_DIR) or api.DEFAULT_SERVICEACCOUNT_DIR)
        default = folder / "ca.crt"
        ca_file = str(default) if default.is_file() else None
    context = ssl.create_default_context(cafile=ca_file)
    return Cluster(server=server.rstrip("/"), ssl_context=context)


def local_mode_cluster(kubeconfig: str | None) -> Cluster:
    env = dict(os.environ)
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    # The kubeconfig, even inside a pod: local mode is "my credentials", never the pod's.
    env.pop("KUBERNETES_SERVICE_HOST", None)
    try:
        credentials = load_credentials(env)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return Cluster(credentials.server, credentials.ssl_context, credentials.token)


@click.command("serve")
@click.option(
    "--auth-mode",
    type=click.Choice([m.value for m in AuthMode]),
    default=AuthMode.CLIENT.value,
    show_default=True,
    help="client: the caller's bearer token makes every Kubernetes call; local: the kubeconfig's "
    "credentials (loopback only).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--apiserver",
    default=None,
    help="client mode: the apiserver's URL (default: the pod's KUBERNETES_SERVICE_HOST/PORT).",
)
@click.option(
    "--certificate-authority",
    default=None,
    type=click.Path(dir_okay=False),
    help="client mode: the apiserver's CA file (default: the pod's ca.crt).",
)
@click.option("--kubeconfig", default=None, envvar="KUBECONFIG", help="local mode: kubeconfig.")
@click.option(
    "--session-url",
    default=None,
    help="The web UI links each run's session id to kagent's UI with this template, e.g. "
    "https://kagent.example/agents/{namespace}/{agent}/chat/{sessionID} "
    "(fields: namespace, name, agent, sessionID, taskID).",
)
@click.option("--log-level", default="info", show_default=True)
def serve_command(
    auth_mode: str,
    host: str,
    port: int,
    apiserver: str | None,
    certificate_authority: str | None,
    kubeconfig: str | None,
    session_url: str | None,
    log_level: str,
) -> None:
    """Serve the REST API of ScheduledRuns (OpenAPI document at /api/openapi.json) and its web
    UI (at /ui/)."""
    import uvicorn

    from server.app import create_app
    from server.config import ServerConfig
    from server.webui import UiSettings, check_session_url

    if session_url is not None:
        try:
            check_session_url(session_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--session-url") from exc

    mode = AuthMode(auth_mode)
    if mode == AuthMode.LOCAL:
        if not is_loopback_host(host):
            raise click.UsageError(f"--auth-mode local listens on loopback only, not {host}")
        cluster = local_mode_cluster(kubeconfig)
    else:
        cluster = client_mode_cluster(apiserver, certificate_authority)
    ui = UiSettings(session_url=session_url)
    app = create_app(ServerConfig(auth_mode=mode, cluster=cluster, ui=ui))
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
