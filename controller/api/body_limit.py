"""Request body size limits per route, enforced before any parsing and before authentication.

FastAPI reads and parses a body before it runs the dependencies that authenticate the
caller, so without this a 20 MB JSON body from anyone costs hundreds of MB to parse. This
ASGI middleware refuses a declared ``Content-Length`` over the route's limit at once (the
body is never read) and counts the bytes of a streamed (chunked) body as the app reads them,
cutting it off at the limit. Either way the answer is 413 with the limit in the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.config import ControllerSettings
from controller.upstream_alerts.parse import MAX_BYTES as ALERT_MAX_BYTES

# Upload routes take the recording size limit (plus the multipart envelope).
UPLOAD_PATHS = ("/api/v1/uploads/", "/panel/announcements/upload")
ALERT_PATHS = ("/api/v1/upstream-alerts/",)
MULTIPART_SLACK = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit (FastAPI re-raises it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, reason(limit))


def reason(limit: int) -> str:
    return f"request body larger than {limit} bytes, the limit for this route"


@dataclass(frozen=True)
class Limits:
    default: int
    upload: int
    alert: int

    def for_path(self, path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return self.upload
        if path.startswith(ALERT_PATHS):
            return self.alert
        return self.default

    @classmethod
    def from_settings(cls, settings: ControllerSettings) -> Limits:
        default = settings.http_max_body_kib * 1024
        upload = settings.upload_max_mb * 1024 * 1024 + MULTIPART_SLACK
        return cls(default, upload, max(default, ALERT_MAX_BYTES + MULTIPART_SLACK))


async def _refuse(send: Send, code: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return str(value.decode("latin-1")).strip()
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _declared_length(scope)
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, status.HTTP_400_BAD_REQUEST, "invalid Content-Length")
                return
            if int(declared) > limit:
                await _refuse(send, status.HTTP_413_CONTENT_TOO_LARGE, reason(limit))
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, status.HTTP_413_CONTENT_TOO_LARGE, reason(limit))


def install(app: FastAPI, settings: ControllerSettings) -> None:
    """Hooked into ``create_app`` (see ``INSTALL_HOOKS``)."""
    app.add_middleware(BodyLimitMiddleware, limits=Limits.from_settings(settings))
