"""Announcements: text → speech → playlists of every targeted node, published at once."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from audio.errors import AudioRejected, SynthesisFailed
from audio.ffmpeg import AudioToolError
from controller.api.deps import ControllerDep, Operator, SessionDep, Viewer
from controller.api.schemas import AnnouncementIn, AnnouncementOut
from controller.db.models import Announcement
from controller.services.announcements import TargetError, create_text_announcement, resolve_targets
from controller.services.zones import ZoneTree, nodes_reached

router = APIRouter(prefix="/api/v1/announcements", tags=["announcements"])
_GRACE = timedelta(minutes=1)


def _out(ann: Announcement, base_url: str, nodes: list[str]) -> AnnouncementOut:
    return AnnouncementOut(
        id=ann.id,
        title=ann.title,
        text=ann.text,
        kind=ann.kind,
        start=ann.start,
        duration_s=ann.duration_s,
        priority=ann.priority,
        media_url=f"{base_url}/media/{ann.media.sha256}.{ann.media.ext}" if ann.media else None,
        targets=[t.zone_id or t.node_id or "" for t in ann.targets],
        nodes=nodes,
        created_at=ann.created_at,
    )


@router.get("")
def list_announcements(
    session: SessionDep, ctl: ControllerDep, _: Viewer, limit: int = 100
) -> list[AnnouncementOut]:
    query = select(Announcement).order_by(Announcement.id.desc()).limit(min(max(limit, 1), 1000))
    base = ctl.settings.resolved_public_url
    return [_out(a, base, []) for a in session.scalars(query)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_announcement(
    body: AnnouncementIn, ctl: ControllerDep, who: Operator
) -> AnnouncementOut:
    """Render the text, store the announcement and publish the affected nodes' playlists."""
    if not body.text.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "text is empty")
    now = ctl.clock.now()
    start = body.start or now + timedelta(seconds=ctl.settings.immediate_lead_s)
    if body.start is not None and start < now.replace(microsecond=0) - _GRACE:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start is in the past")

    def work() -> tuple[Announcement, list[str]]:
        with ctl.sessions() as session:
            try:
                targets = resolve_targets(session, body.targets)
            except TargetError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
            try:
                ann = create_text_announcement(
                    session,
                    ctl.renderer,
                    text=body.text,
                    targets=targets,
                    start=start,
                    now=now,
                    title=body.title,
                    priority=body.priority,
                    created_by=who.username,
                )
            except AudioRejected as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
            except (AudioToolError, SynthesisFailed) as exc:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE, f"speech synthesis failed: {exc}"
                ) from None
            session.commit()
            nodes = sorted(
                nodes_reached(session, ZoneTree.load(session), targets.zone_ids, targets.node_ids)
            )
        ctl.publisher.refresh(nodes)
        return ann, nodes

    ann, nodes = await run_in_threadpool(work)
    return _out(ann, ctl.settings.resolved_public_url, nodes)
