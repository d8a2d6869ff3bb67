"""The FastAPI application factory: ``create_app(settings)``, the one place the controller is
assembled. Nothing is built at import.

Routers are listed here, explicitly (a test checks every route module is listed). The
lifespan builds the controller, then the job runner (through ``jobs.context.JobContext``),
then starts the panel; it stops them in reverse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, FastAPI

from controller.api import body_limit
from controller.api.routes import (
    agent_dist,
    agent_rollouts,
    announcements,
    approvals,
    broker_hooks,
    bulletins,
    commands,
    emergency,
    enrolment,
    fleet,
    live,
    media,
    nodes,
    playback_events,
    pronunciations,
    reports,
    schedules,
    slides,
    slots,
    system,
    tokens,
    tts,
    upstream_alerts,
    users,
    zones,
)
from controller.config import ControllerSettings
from controller.jobs.runner import JobRunner
from controller.ops import setup as ops
from controller.panel import setup as panel
from controller.panel.routes import announcements as panel_announcements
from controller.panel.routes import approvals as panel_approvals
from controller.panel.routes import audit as panel_audit
from controller.panel.routes import board as panel_board
from controller.panel.routes import broadcast as panel_broadcast
from controller.panel.routes import bulletins as panel_bulletins
from controller.panel.routes import dashboard as panel_dashboard
from controller.panel.routes import dictionary as panel_dictionary
from controller.panel.routes import emergency as panel_emergency
from controller.panel.routes import inbox as panel_inbox
from controller.panel.routes import login as panel_login
from controller.panel.routes import logs as panel_logs
from controller.panel.routes import map as panel_map
from controller.panel.routes import multimedia_edit as panel_multimedia_edit
from controller.panel.routes import nodes as panel_nodes
from controller.panel.routes import relays as panel_relays
from controller.panel.routes import reports as panel_reports
from controller.panel.routes import safety as panel_safety
from controller.panel.routes import schedule as panel_schedule
from controller.panel.routes import tokens as panel_tokens
from controller.panel.routes import updates as panel_updates
from controller.panel.routes import users as panel_users
from controller.public import routes as public_routes
from controller.public.ratelimit import PublicRateLimiter
from controller.services.commands import ask_full_snapshot
from controller.services.container import Controller
from protocol.clock import Clock

API_ROUTERS: tuple[APIRouter, ...] = (
    agent_dist.router,
    agent_rollouts.router,
    announcements.router,
    approvals.router,
    broker_hooks.router,
    bulletins.router,
    commands.router,
    emergency.router,
    enrolment.router,
    fleet.router,
    live.router,
    media.router,
    nodes.router,
    playback_events.router,
    pronunciations.router,
    reports.router,
    schedules.router,
    slides.router,
    slots.router,
    system.router,
    tokens.router,
    tts.router,
    upstream_alerts.router,
    users.router,
    zones.router,
)
PANEL_ROUTERS: tuple[APIRouter, ...] = (
    panel_announcements.router,
    panel_board.router,
    panel_multimedia_edit.router,
    panel_approvals.router,
    panel_inbox.router,
    panel_bulletins.router,
    panel_audit.router,
    panel_broadcast.router,
    panel_dashboard.router,
    panel_dictionary.router,
    panel_emergency.router,
    panel_login.router,
    panel_logs.router,
    panel_map.router,
    panel_nodes.router,
    panel_reports.router,
    panel_relays.router,
    panel_safety.router,
    panel_schedule.router,
    panel_tokens.router,
    panel_updates.router,
    panel_users.router,
)
# the citizens' side, without login: a commune's replay page, feed, poster and audio
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (public_routes.router,)


def create_app(
    settings: ControllerSettings, clock: Clock | None = None, start_services: bool = True
) -> FastAPI:
    """Build the app; the controller (DB, MQTT), its jobs and the panel start and stop with
    its lifespan (``start_services=False``: built, but no MQTT link and no jobs)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctl = Controller.build(settings, clock)
        app.state.controller = ctl
        # a node whose delta heartbeat does not fit the stored snapshot is asked for a full one
        ctl.ingestor.on_stale_snapshot = partial(ask_full_snapshot, ctl)
        app.state.public_limiter = PublicRateLimiter(ctl.clock)
        metrics.attach(ctl)
        jobs: JobRunner | None = None
        metrics_server = None
        try:
            metrics_server = ops.serve_metrics(settings, metrics)
            if start_services:
                ctl.start()
                if settings.scheduler_enabled:
                    # runs the jobs only while this process holds the database lease
                    jobs = JobRunner(ctl)
                    jobs.start()
            panel.start(app, settings, ctl)
            yield
        finally:
            if jobs is not None:
                jobs.stop()
            ctl.stop()
            if metrics_server is not None:
                ops.stop_metrics(metrics_server)

    app = FastAPI(title="Loa xã controller", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.principal_resolvers = panel.install(app)
    for router in (*API_ROUTERS, *PANEL_ROUTERS, *PUBLIC_ROUTERS):
        app.include_router(router)
    metrics = ops.install(app, settings)
    # Added last, so it is the outermost middleware: oversized bodies are refused before
    # anything else reads them.
    body_limit.install(app, settings)
    return app
