"""Public routes (no login): ``/public/{commune}/`` page, ``feed.xml``, ``poster``, media.

Everything answers from :mod:`controller.services.public_replay`, so the four views agree on
what is public. Each request spends a token of the caller's rate-limit bucket (429 beyond).
Pages and the feed may be cached for a minute by browsers and proxies; audio for a day.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from controller.api.deps import ControllerDep, SessionDep
from controller.auth.client_address import client_address
from controller.db.models import Zone
from controller.panel.i18n import COOKIE, pick_language, translate
from controller.public.feed import build_feed
from controller.public.poster import qr_svg
from controller.public.templating import environment
from controller.services import public_replay
from controller.services.container import Controller

router = APIRouter(prefix="/public", tags=["public"])

_SLUG = re.compile(r"^[a-z0-9-]{1,64}$")
_MEDIA_NAME = re.compile(r"^(?P<key>[ae][0-9a-z-]{1,40})\.(?P<ext>[a-z0-9]{1,8})$")
PAGE_CACHE = "public, max-age=60"
MEDIA_CACHE = "public, max-age=86400"
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; img-src 'self'; "
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def rate_limited(request: Request) -> None:
    """429 with ``Retry-After`` once the caller's bucket is empty."""
    limiter = getattr(request.app.state, "public_limiter", None)
    if limiter is None:
        return
    wait = limiter.take(client_address(request))
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many requests, try again later",
            headers={"Retry-After": str(max(1, round(wait)))},
        )


Limited = Annotated[None, Depends(rate_limited)]


def _commune(session: Session, commune_id: str) -> Zone:
    zone = public_replay.commune(session, commune_id) if _SLUG.match(commune_id) else None
    if zone is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such commune")
    return zone


def _lang(request: Request) -> str:
    return pick_language(request.query_params.get("lang") or request.cookies.get(COOKIE))


def _urls(ctl: Controller, commune_id: str) -> tuple[str, str]:
    page = f"{ctl.settings.resolved_public_url}/public/{commune_id}/"
    return page, f"{page}media"


def _page_of(
    commune_id: str, request: Request, ctl: Controller, session: Session
) -> tuple[Zone, str, str]:
    """The commune (404 if none), the reader's language and the page's public address."""
    zone = _commune(session, commune_id)
    return zone, _lang(request), _urls(ctl, zone.id)[0]


def _render(template: str, lang: str, **context: object) -> str:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return environment().get_template(template).render(lang=lang, t=t, **context)


def _html(body: str, cache: str = PAGE_CACHE) -> HTMLResponse:
    return HTMLResponse(body, headers={**_HEADERS, "Cache-Control": cache})


@router.get("/{commune_id}/", response_class=HTMLResponse)
def replay_page(
    commune_id: str, request: Request, ctl: ControllerDep, session: SessionDep, _: Limited
) -> HTMLResponse:
    """The commune's recent bulletins, emergencies first, each with its text and audio."""
    zone, lang, page_url = _page_of(commune_id, request, ctl, session)
    items = public_replay.public_items(session, zone.id, ctl.clock.now())
    return _html(_render("replay.html", lang, commune=zone, items=items, page_url=page_url))


@router.get("/{commune_id}/feed.xml")
def feed(commune_id: str, ctl: ControllerDep, session: SessionDep, _: Limited) -> Response:
    """RSS 2.0 podcast of the same items, each with its audio as an enclosure."""
    zone = _commune(session, commune_id)
    now = ctl.clock.now()
    page_url, media_url = _urls(ctl, zone.id)
    body = build_feed(
        title=translate("vi", "public.feed_title", commune=zone.name),
        description=translate("vi", "public.feed_description", commune=zone.name),
        page_url=page_url,
        media_url=media_url,
        commune_id=zone.id,
        items=public_replay.public_items(session, zone.id, now),
        built_at=now,
        emergency_label=translate("vi", "public.emergency"),
    )
    return Response(
        body,
        media_type="application/rss+xml; charset=utf-8",
        headers={"Cache-Control": PAGE_CACHE, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{commune_id}/poster", response_class=HTMLResponse)
def poster(
    commune_id: str, request: Request, ctl: ControllerDep, session: SessionDep, _: Limited
) -> HTMLResponse:
    """A printable A4 poster for the cultural house: the commune's name and a QR code."""
    zone, lang, page_url = _page_of(commune_id, request, ctl, session)
    body = _render("poster.html", lang, commune=zone, page_url=page_url, qr=qr_svg(page_url))
    return _html(body, "public, max-age=3600")


@router.get("/{commune_id}/media/{filename}")
def media(
    commune_id: str, filename: str, ctl: ControllerDep, session: SessionDep, _: Limited
) -> FileResponse:
    """The audio of one public item of this commune; 404 for anything the page would hide."""
    zone = _commune(session, commune_id)
    match = _MEDIA_NAME.match(filename)
    audio = (
        public_replay.public_recording(session, zone.id, match["key"], ctl.clock.now())
        if match
        else None
    )
    if match is None or audio is None or audio.ext != match["ext"]:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording")
    path = ctl.media_store.resolve(f"{audio.sha256}.{audio.ext}")
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording")
    return FileResponse(
        path,
        media_type=audio.mime,
        headers={"Cache-Control": MEDIA_CACHE, "X-Content-Type-Options": "nosniff"},
    )
