"""Agent updates over the air: start a staged rollout (admin) and follow its progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from controller.api.deps import Admin, ControllerDep, Viewer
from controller.api.schemas import Slug, StrictBody
from controller.api.scoping import ScopeDep, require_targets
from controller.auth.scope import Scope
from controller.services.rollout import RolloutError, RolloutPlan, start_rollout
from controller.services.rollout import status as rollout_status
from protocol.models import AgentVersion

router = APIRouter(prefix="/api/v1/agent-rollouts", tags=["agent updates"])


class RolloutIn(StrictBody):
    version: AgentVersion
    zones: Annotated[list[Slug], Field(default_factory=list, max_length=200)]
    canary: Annotated[int, Field(ge=0, le=1000)] = 1
    wave: Annotated[int, Field(ge=1, le=10_000)] = 20
    max_failed_pct: Annotated[float, Field(ge=0, le=100)] = 20.0


@router.post("", status_code=status.HTTP_201_CREATED, responses={403: {}, 422: {}})
async def create_rollout(
    body: RolloutIn, ctl: ControllerDep, who: Admin, scope: ScopeDep
) -> dict[str, Any]:
    if not body.zones and not scope.everything:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a fleet-wide admin updates everything")
    require_targets(scope, list(body.zones), [])
    plan = RolloutPlan(body.version, list(body.zones), body.canary, body.wave, body.max_failed_pct)

    def work() -> dict[str, Any]:
        try:
            rollout_id = start_rollout(ctl, plan, who.username)
        except RolloutError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        return rollout_status(ctl, rollout_id) or {}

    return await run_in_threadpool(work)


def _in_scope(found: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Only the caller's communes' nodes (and their counts) from a rollout's progress."""
    if scope.everything:
        return found
    nodes = [n for n in found["nodes"] if scope.allows_node(n["node_id"])]
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n["state"]] = counts.get(n["state"], 0) + 1
    return {**found, "nodes": nodes, "counts": counts}


@router.get("/latest", responses={404: {}})
def latest_rollout(ctl: ControllerDep, _: Viewer, scope: ScopeDep) -> dict[str, Any]:
    found = rollout_status(ctl)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no agent rollout yet")
    return _in_scope(found, scope)


@router.get("/{rollout_id}", responses={404: {}})
def get_rollout(rollout_id: int, ctl: ControllerDep, _: Viewer, scope: ScopeDep) -> dict[str, Any]:
    found = rollout_status(ctl, rollout_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agent rollout {rollout_id}")
    return _in_scope(found, scope)
