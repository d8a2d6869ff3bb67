"""Commands to a node or a zone (volume, amplifier, stop, sync, play now), with per-node acks."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from controller.api import audit_trail
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import Slug, StrictBody
from controller.api.scoping import ScopeDep, require_targets
from controller.db.models import Command as CommandRow
from controller.services.commands import (
    CommandRequestError,
    CommandTargetError,
    delivery_states,
    issue_command,
)
from protocol.models import CommandAction

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

SimpleAction = Literal["stop", "volume", "power", "sync", "reboot"]


class CommandIn(StrictBody):
    action: SimpleAction
    node_id: Slug | None = None
    zone_id: Slug | None = None
    volume: Annotated[int, Field(ge=0, le=100)] | None = None
    on: bool | None = None
    ttl_s: Annotated[int, Field(ge=5, le=7 * 24 * 3600)] = 600
    # what makes a valid command is checked once, by the service's build_command (protocol)


class DeliveryOut(StrictBody):
    node_id: str
    state: str
    detail: str


class CommandOut(StrictBody):
    id: str
    action: str
    nodes: list[DeliveryOut]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_command(
    body: CommandIn, request: Request, ctl: ControllerDep, who: Operator, scope: ScopeDep
) -> CommandOut:
    """Sign and send; only to a node or zone inside the caller's communes (else 403)."""
    if (body.node_id is None) == (body.zone_id is None):  # the scope check needs a target
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "give exactly one of node_id or zone_id"
        )
    require_targets(
        scope, [body.zone_id] if body.zone_id else [], [body.node_id] if body.node_id else []
    )

    def work() -> CommandOut:
        try:
            issued = issue_command(
                ctl,
                action=CommandAction(body.action),
                node_id=body.node_id,
                zone_id=body.zone_id,
                volume=body.volume,
                on=body.on,
                ttl=timedelta(seconds=body.ttl_s),
                created_by=who.username,
            )
        except (CommandRequestError, CommandTargetError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        target = f"node:{body.node_id}" if body.node_id else f"zone:{body.zone_id}"
        detail = body.model_dump_json(exclude_none=True, exclude={"node_id", "zone_id"})
        audit_trail.write(
            ctl, who, request, f"command.{body.action}", target, f"id={issued.command.id} {detail}"
        )
        return CommandOut(
            id=issued.command.id,
            action=body.action,
            nodes=[DeliveryOut(node_id=n, state="pending", detail="") for n in issued.node_ids],
        )

    return await run_in_threadpool(work)


@router.get("/{command_id}")
def get_command(
    command_id: str, session: SessionDep, ctl: ControllerDep, _: Viewer, scope: ScopeDep
) -> CommandOut:
    states = delivery_states(session, command_id, ctl.clock.now())
    if states is not None and not scope.everything:
        states = {n: v for n, v in states.items() if scope.allows_node(n)} or None
    if states is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no command {command_id!r}")
    row = session.get(CommandRow, command_id)
    action = row.action if row else ""
    return CommandOut(
        id=command_id,
        action=action,
        nodes=[DeliveryOut(node_id=n, state=s, detail=d) for n, (s, d) in sorted(states.items())],
    )
