"""Agent updates in the panel: releases on this controller, every node's reported version,
the latest rollout's progress, and (admins) starting a staged rollout."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.routing import APIRouter
from sqlalchemy import select

from controller.agentdist.store import AgentDist
from controller.api.routes.agent_dist import default_version
from controller.db.models import Node
from controller.panel.page import AdminPage, Page
from controller.services.rollout import RolloutError, RolloutPlan, start_rollout, status

router = APIRouter(prefix="/panel/updates", include_in_schema=False)


def _render(page: Page, status_code: int = 200, message: str = "", error: str = "") -> Response:
    ctl = page.ctl
    dist = ctl.agent_dist or AgentDist(ctl.settings.resolved_agent_dist_dir)
    rollout: dict[str, Any] | None = status(ctl)
    with ctl.sessions() as session:
        scope = page.scope(session)
        nodes = [
            (n.id, n.name, n.online, (n.last_heartbeat or {}).get("agent_version") or "—")
            for n in session.scalars(
                select(Node).where(Node.revoked_at.is_(None)).order_by(Node.id)
            )
            if scope.allows_node(n.id)
        ]
    if rollout is not None:
        rollout["nodes"] = [n for n in rollout["nodes"] if scope.allows_node(n["node_id"])]
    return page.render(
        "updates.html",
        status_code,
        versions=dist.versions(),
        default=default_version(ctl),
        rollout=rollout,
        nodes=nodes,
        message=message,
        error=error,
    )


@router.get("")
def updates_page(page: AdminPage) -> Response:
    return _render(page)


@router.post("")
async def start(
    page: AdminPage,
    version: Annotated[str, Form(max_length=64)],
    zones: Annotated[str, Form(max_length=2000)] = "",
    canary: Annotated[int, Form(ge=0, le=1000)] = 1,
    wave: Annotated[int, Form(ge=1, le=10_000)] = 20,
    max_failed_pct: Annotated[float, Form(ge=0, le=100)] = 20.0,
) -> Response:
    zone_ids = [z.strip() for z in zones.split(",") if z.strip()]
    with page.ctl.sessions() as session:
        scope = page.scope(session)
    if (not zone_ids and not scope.everything) or not scope.allows_targets(zone_ids, []):
        return _render(page, 403, error=page.t("updates.scope"))
    plan = RolloutPlan(version, zone_ids, canary, wave, max_failed_pct)
    try:
        rollout_id = await run_in_threadpool(start_rollout, page.ctl, plan, page.principal.username)
    except RolloutError as exc:
        return _render(page, 422, error=page.t("updates.error", reason=str(exc)))
    with page.ctl.sessions.begin() as session:
        page.audit(session, "agent.rollout", version, f"id={rollout_id} zones={zone_ids}")
    return _render(page, message=page.t("updates.started", version=version))
