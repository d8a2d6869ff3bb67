"""Called by ``create_app``: request ids, HTTP metrics and the Prometheus ``/metrics``.

``/metrics`` is either on the API port for admins only (the default), or — with
``LOA_METRICS_PORT`` — on its own port bound to ``LOA_METRICS_HOST`` (loopback by default)
without auth, for a Prometheus on the same host, and then not on the API port at all.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server

from controller.api.deps import require_role
from controller.auth.principal import Role
from controller.config import ControllerSettings
from controller.ops.metrics import ControllerMetrics
from controller.ops.middleware import RequestContextMiddleware

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


def serve_metrics(settings: ControllerSettings, metrics: ControllerMetrics) -> Any:
    """With ``LOA_METRICS_PORT``: serve ``/metrics`` on its own port; returns the server."""
    if settings.metrics_port is None:
        return None
    server, _thread = start_http_server(
        settings.metrics_port, settings.metrics_host, metrics.registry
    )
    log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    return server


def stop_metrics(server: Any) -> None:
    server.shutdown()
    server.server_close()


def install(app: FastAPI, settings: ControllerSettings) -> ControllerMetrics:
    """Request ids and HTTP metrics; ``/metrics`` on the API port unless it has its own."""
    metrics = ControllerMetrics()
    app.state.ops_metrics = metrics
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if settings.metrics_port is None:
        app.include_router(metrics_router())
    return metrics
