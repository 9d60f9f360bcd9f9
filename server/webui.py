"""The web UI: static files (server/ui/) under /ui/, served by the API's own server, and the
headers that keep a page of untrusted text (prompts, agent answers) harmless.

The page is plain HTML, CSS and native ES modules (`ui/app.js` imports the others) with no
library and no build step; each file goes out with the content type its suffix names in
MEDIA_TYPES (a module script needs a JavaScript type, and the answer must not depend on the
machine's mime.types), and a file of any other kind is not served. Every response
carries a Content-Security-Policy that lets a page run only this origin's own script files
(no inline script, no `eval`, nothing from another origin) and forbids framing, so even a
rendering mistake cannot turn an agent's answer into running code.

Authentication is the API's: in `client` mode the page asks for a Kubernetes bearer token and
keeps it in the tab's sessionStorage, sending it as `Authorization: Bearer` (never a cookie, so a
browser never attaches it to a request another site makes); in `local` mode it needs none.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_DIR: Final = Path(__file__).with_name("ui")
UI_PATH: Final = "/ui"
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The kinds of file the UI is made of, and the content type of each (RFC 9239 for JavaScript).
MEDIA_TYPES: Final = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
# What a session-link template may name: the run's session and task, where it ran, its agent.
LINK_FIELDS: Final = frozenset({"namespace", "name", "agent", "sessionID", "taskID"})
_SCHEME: Final = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)


@dataclass(frozen=True)
class UiSettings:
    """`session_url`: a template such as `https://kagent.example/agents/{namespace}/{agent}/chat/
    {sessionID}` that turns a run's session id into a link to kagent's UI (None: no link)."""

    session_url: str | None = None


def check_session_url(template: str) -> str:
    """The template if it is an http(s) URL naming only LINK_FIELDS, else ValueError."""
    if not _SCHEME.match(template):
        raise ValueError(f"the session URL must start with http:// or https://: {template!r}")
    named = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    unknown = named - LINK_FIELDS
    if unknown:
        known = ", ".join(sorted(LINK_FIELDS))
        raise ValueError(f"the session URL names {sorted(unknown)}; it may name only {known}")
    return template


class UiFiles(StaticFiles):
    """The UI's folder: each file with its suffix's type from MEDIA_TYPES, no other file."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        media_type = MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type is None:
            return PlainTextResponse("Not Found", status_code=404)
        response = FileResponse(
            full_path, status_code=status_code, stat_result=stat_result, media_type=media_type
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every HTTP response (the API's JSON included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if scope["path"].startswith(UI_PATH):
                    headers["Cache-Control"] = "no-cache"  # revalidate (ETag): upgrades show
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI, auth_mode: str, settings: UiSettings) -> None:
    """Serve the UI at /ui/ (and send / there), and its settings at /ui/config.json."""
    config = {"authMode": auth_mode, "sessionUrl": settings.session_url}

    async def root() -> RedirectResponse:
        return RedirectResponse(f"{UI_PATH}/", status_code=302)

    async def ui_config() -> JSONResponse:
        return JSONResponse(config)

    app.add_api_route("/", root, include_in_schema=False)
    app.add_api_route(f"{UI_PATH}/config.json", ui_config, include_in_schema=False)
    app.mount(UI_PATH, UiFiles(directory=UI_DIR, html=True), name="ui")
    app.add_middleware(SecurityHeaders)
