"""One pure ASGI middleware: gives each HTTP request an id (X-Request-ID in and out, and on
every log line while it is served), counts it by route template and status, and writes the
access log line (uvicorn's own access log is turned off by ``loa controller``)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.ops.logs import request_id
from controller.ops.metrics import ControllerMetrics

log = logging.getLogger("loa.http")

# A caller's id (e.g. nginx's $request_id) is kept only if it is short and plain.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def route_label(scope: Scope) -> str:
    """The route *template* (``/api/v1/nodes/{node_id}``), never the raw path (cardinality)."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    raw = str(scope.get("path", ""))
    for prefix in ("/media/", "/panel/static/"):
        if raw.startswith(prefix):
            return prefix + "*"
    return "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: ControllerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = str(scope.get("method", ""))
            self.metrics.observe_http(route_label(scope), method, status, seconds)
            # the access log (uvicorn's is off): one line per request, with its id
            log.info("%s %s %d %.1f ms", method, scope.get("path", ""), status, seconds * 1000)
            request_id.reset(token)
