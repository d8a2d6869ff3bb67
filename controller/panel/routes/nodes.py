"""Nodes: the filtered list, one node's page, its controls, and command ack polling."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from audio.errors import AudioRejected, AudioToolError, SynthesisFailed
from controller.db.models import Command, CommandDelivery, Node, Zone
from controller.panel import audio_words, log_text
from controller.panel.node_commands import ControlError, ControlRequest, send_control
from controller.panel.page import OperatorPage, Page, PanelNotFound, ViewerPage
from controller.panel.queries import heartbeat_chart, item_names
from controller.panel.queries import nodes as q
from controller.services import horn
from controller.services.commands import CommandTargetError

router = APIRouter(prefix="/panel", include_in_schema=False)
log = logging.getLogger("loa.panel")


@router.get("/nodes")
def nodes_page(
    page: ViewerPage, search: str = "", zone: str = "", status: str = ""
) -> HTMLResponse:
    flt = q.NodeFilter(search[:100], zone[:64], status if status in q.STATUSES else "")
    with page.ctl.sessions() as session:
        scope = page.scope(session)
        nodes = q.list_nodes(session, scope, flt)
        zones = q.zones_in_scope(session, scope)
        zone_names = {z.id: z.name for z in session.scalars(select(Zone))}
    echo_ms = page.ctl.settings.echo_clock_offset_ms
    return page.render(
        "nodes.html",
        nodes=nodes,
        zones=zones,
        flt=flt,
        playing=q.is_playing,
        statuses=q.STATUSES,
        zone_names=zone_names,
        clock_flag=lambda node: q.clock_flag(node, echo_ms),
    )


@router.get("/nodes/{node_id}")
def node_page(page: ViewerPage, node_id: str, sent: str = "") -> HTMLResponse:
    """``sent`` only switches on the fixed "command sent" banner; nothing from the address
    bar is shown as text (a refused command is answered on the POST itself)."""
    return _node_page(page, node_id, sent=bool(sent))


def _node_page(
    page: Page, node_id: str, *, sent: bool = False, error: str = "", status_code: int = 200
) -> HTMLResponse:
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        page.require_node(session, node_id)
        node = session.get(Node, node_id)
        if node is None:
            raise PanelNotFound(node_id)
        beats = q.heartbeats(session, node_id)
        charts = heartbeat_chart.health_series(
            beats,
            {
                "uptime": page.t("node.uptime"),
                "temp": page.t("node.temp"),
                "link": page.t("node.link"),
            },
        )
        playlist = q.current_playlist(session, node_id)
        events = q.recent_playback(session, node_id)
        commands = q.recent_commands(session, node_id, now)
        zone = session.get(Zone, node.zone_id)
        names = item_names.resolve(
            session, [], [e.item_id for e in events], [e.command_id for e in events]
        )
        effective_cap = horn.node_cap(session, node_id)
    return page.render(
        "node.html",
        status_code,
        node=node,
        hb=node.last_heartbeat or {},
        charts=charts,
        chart_w=heartbeat_chart.WIDTH,
        chart_h=heartbeat_chart.HEIGHT,
        beats=len(beats),
        playlist=playlist,
        events=events,
        commands=commands,
        sent=sent,
        error=error,
        playing=q.is_playing(node),
        now=now,
        zone_name=zone.name if zone is not None else node.zone_id,
        names=names,
        action_label=lambda action: log_text.action_label(page.t, action),
        human_detail=lambda detail: log_text.human_detail(page.t, detail, names),
        effective_cap=effective_cap,
    )


@router.post("/nodes/{node_id}/command")
async def node_command(
    page: OperatorPage,
    node_id: str,
    action: Annotated[str, Form(max_length=20)],
    volume: Annotated[int | None, Form()] = None,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with page.ctl.sessions() as session:
        page.require_node(session, node_id)
    req = ControlRequest(action, volume, text)
    try:
        issued = await run_in_threadpool(
            send_control, page.ctl, node_id, req, page.principal.username
        )
    except (ControlError, CommandTargetError) as exc:
        log.info("panel command refused: %s", exc)
        return _node_page(page, node_id, error=page.t("node.error_invalid"), status_code=422)
    except (AudioRejected, AudioToolError, SynthesisFailed) as exc:
        error = audio_words.audio_reason(page.t, exc)
        return _node_page(page, node_id, error=error, status_code=422)
    with page.ctl.sessions.begin() as session:
        detail = f"volume={volume}" if action == "volume" else text[:200]
        page.audit(session, f"command.{action}", node_id, detail)
    return RedirectResponse(f"/panel/nodes/{node_id}?sent={issued.command.id}", status_code=303)


@router.get("/commands/{command_id}.json")
def command_state(page: ViewerPage, command_id: str) -> JSONResponse:
    """States of one command on the nodes the caller may see (for the ack badge)."""
    now = page.ctl.clock.now()
    with page.ctl.sessions() as session:
        command = session.get(Command, command_id)
        if command is None:
            raise PanelNotFound(command_id)
        scope = page.scope(session)
        states = [
            "expired" if d.state == "pending" and now >= command.expires_at else d.state
            for d in session.query(CommandDelivery).filter_by(command_id=command_id)
            if scope.allows_node(d.node_id)
        ]
    if not states:
        raise PanelNotFound(command_id)
    order = ("failed", "expired", "pending", "acked")
    state = next(s for s in order if s in states)
    return JSONResponse({"id": command_id, "state": state, "label": page.t(f"state.{state}")})
