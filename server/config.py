"""What `scheduledrun serve` was started with, read by the app and by each request's
dependencies (server.dependencies)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.auth import AuthMode
from server.kube import Cluster
from server.webui import UiSettings


@dataclass(frozen=True)
class ServerConfig:
    auth_mode: AuthMode
    cluster: Cluster
    ui: UiSettings = field(default_factory=UiSettings)
    # Where a create that names no namespace goes, as kagent's GetResourceNamespace: the
    # namespace the server runs in, unless `--default-namespace` says otherwise.
    default_namespace: str = "default"
