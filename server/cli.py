"""`scheduledrun serve`: the REST API on uvicorn.

`--auth-mode client` (the default, for a cluster): every Kubernetes call is made with the
caller's bearer token; the server needs only where the apiserver is and its CA (flags; in a pod,
the environment and the kube-root-ca.crt file; outside one, the kubeconfig's current cluster,
as a kubectl user starts it: never its user's credentials). `--auth-mode local` (a
workstation): the kubeconfig's credentials, on a loopback address only.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import click

from runner import api
from runner.kube import ConfigError, kubeconfig_cluster, kubeconfig_path, load_credentials
from server.auth import AuthMode, is_loopback_host
from server.kube import Cluster


def client_mode_cluster(server: str | None, ca_file: str | None) -> Cluster:
    """Where the apiserver is, without any credentials: flags, else the pod's environment, else
    the kubeconfig's current cluster (its address and CA; its user's credentials are not read)."""
    if server is None:
        host, port = (
            os.environ.get("KUBERNETES_SERVICE_HOST"),
            os.environ.get("KUBERNETES_SERVICE_PORT"),
        )
        if not host or not port:
            return kubeconfig_mode_cluster(ca_file)
        host = f"[{host}]" if ":" in host else host
        server = f"https://{host}:{port}"
    if ca_file is None:
        folder = Path(os.environ.get(api.ENV_SERVICEACCOUNT_DIR) or api.DEFAULT_SERVICEACCOUNT_DIR)
        default = folder / "ca.crt"
        ca_file = str(default) if default.is_file() else None
    context = ssl.create_default_context(cafile=ca_file)
    return Cluster(server=server.rstrip("/"), ssl_context=context)


def kubeconfig_mode_cluster(ca_file: str | None) -> Cluster:
    path = kubeconfig_path(os.environ)
    if path is None:
        raise click.UsageError(
            "outside a pod, --apiserver is required, or a kubeconfig (KUBECONFIG or "
            "~/.kube/config) to take the apiserver's address and CA from"
        )
    try:
        found = kubeconfig_cluster(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    context = found.ssl_context if ca_file is None else ssl.create_default_context(cafile=ca_file)
    return Cluster(server=found.server, ssl_context=context)


def _pod_namespace() -> str:
    """The namespace the server runs in (its pod's), else `default`."""
    folder = Path(os.environ.get(api.ENV_SERVICEACCOUNT_DIR) or api.DEFAULT_SERVICEACCOUNT_DIR)
    found = folder / "namespace"
    return found.read_text().strip() if found.is_file() else "default"


def kagent_session_url(kagent_ui_url: str) -> str:
    """kagent's chat route for a run's session, `<ui>/agents/{namespace}/{agent}/chat/
    {sessionID}`."""
    return kagent_ui_url.rstrip("/") + "/agents/{namespace}/{agent}/chat/{sessionID}"


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
    help="client mode: the apiserver's URL (default: the pod's KUBERNETES_SERVICE_HOST/PORT; "
    "outside a pod, the kubeconfig's current cluster).",
)
@click.option(
    "--certificate-authority",
    default=None,
    type=click.Path(dir_okay=False),
    help="client mode: the apiserver's CA file (default: the pod's ca.crt, or the kubeconfig's).",
)
@click.option("--kubeconfig", default=None, envvar="KUBECONFIG", help="local mode: kubeconfig.")
@click.option(
    "--session-url",
    default=None,
    help="The web UI links each run's session id to kagent's UI with this template, e.g. "
    "https://kagent.example/agents/{namespace}/{agent}/chat/{sessionID} "
    "(fields: namespace, name, agent, sessionID, taskID).",
)
@click.option(
    "--kagent-ui-url",
    default=None,
    help="kagent's UI, e.g. https://kagent.example: the default --session-url is its chat "
    "route, <url>/agents/{namespace}/{agent}/chat/{sessionID}.",
)
@click.option(
    "--default-namespace",
    default=None,
    help="Where a create that names no namespace goes, as kagent's (default: the namespace the "
    "server runs in, else `default`).",
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
    kagent_ui_url: str | None,
    default_namespace: str | None,
    log_level: str,
) -> None:
    """Serve the REST API of ScheduledRuns (OpenAPI document at /api/openapi.json) and its web
    UI (at /ui/)."""
    import uvicorn

    from server.app import create_app
    from server.config import ServerConfig
    from server.webui import UiSettings, check_session_url

    if session_url is None and kagent_ui_url is not None:
        session_url = kagent_session_url(kagent_ui_url)
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
    namespace = default_namespace or _pod_namespace()
    config = ServerConfig(auth_mode=mode, cluster=cluster, ui=ui, default_namespace=namespace)
    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
