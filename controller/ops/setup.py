"""Hooked into ``create_app``: request ids, HTTP metrics and the Prometheus ``/metrics``.

``/metrics`` is either on the API port for admins only (the default), or — with
``LOA_METRICS_PORT`` — on its own port bound to ``LOA_METRICS_HOST`` (loopback by default)
without auth, for a Prometheus on the same host, and then not on the API port at all.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server

from controller.api.deps import Role, require_role
from controller.config import ControllerSettings
from controller.ops.metrics import ControllerMetrics
from controller.ops.middleware import RequestContextMiddleware
from controller.services.container import Controller

log = logging.getLogger(__name__)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get(
        "/metrics", dependencies=[Depends(require_role(Role.ADMIN))], include_in_schema=False
    )
    def metrics(request: Request) -> Response:
        """Prometheus text format (admin role; or set LOA_METRICS_PORT for a local port)."""
        registry = request.app.state.ops_metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _wrap_lifespan(app: FastAPI, settings: ControllerSettings, metrics: ControllerMetrics) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        context: AbstractAsyncContextManager[Any] = inner(app_)
        async with context as value:
            ctl: Controller = app_.state.controller
            metrics.attach(ctl)
            server = None
            if settings.metrics_port is not None:
                server, _thread = start_http_server(
                    settings.metrics_port, settings.metrics_host, metrics.registry
                )
                log.info(
                    "metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port
                )
            try:
                yield value
            finally:
                if server is not None:
                    server.shutdown()
                    server.server_close()

    app.router.lifespan_context = lifespan


def install(app: FastAPI, settings: ControllerSettings) -> None:
    metrics = ControllerMetrics()
    app.state.ops_metrics = metrics
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if settings.metrics_port is None:
        app.include_router(metrics_router())
    _wrap_lifespan(app, settings, metrics)
