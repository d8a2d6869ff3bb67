"""The per-request page context and the dependencies that guard every panel route.

``ViewerPage`` / ``OperatorPage`` / ``AdminPage`` resolve the session cookie, check the role,
check the CSRF token on every unsafe method, and carry what templates need (language,
translator, CSRF token, nav). Commune scope is checked by each route through
:meth:`Page.scope`, because only the route knows which node or zone it touches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from controller.auth import audit
from controller.auth.client_address import client_address
from controller.auth.principal import Principal, Role
from controller.auth.scope import Scope, scope_for
from controller.panel.i18n import COOKIE, pick_language, translate
from controller.panel.identity import CSRF_HEADER, SAFE_METHODS, Identity, read_identity
from controller.panel.state import panel_state
from controller.panel.templating import environment
from controller.services.bulletins import sendable_communes
from controller.services.container import Controller

NAV = (
    ("dashboard", "/panel/", Role.VIEWER),
    ("nodes", "/panel/nodes", Role.VIEWER),
    ("map", "/panel/map", Role.VIEWER),
    ("announcements", "/panel/announcements", Role.VIEWER),
    ("schedule", "/panel/schedule", Role.VIEWER),
    ("relays", "/panel/relays", Role.VIEWER),
    ("logs", "/panel/logs", Role.VIEWER),
    ("inbox", "/panel/inbox", Role.VIEWER),
    ("bulletin_new", "/panel/bulletins/new", Role.OPERATOR),
    ("approvals", "/panel/approvals", Role.VIEWER),
    ("emergency", "/panel/emergency", Role.OPERATOR),
    ("broadcast", "/panel/broadcast", Role.OPERATOR),
    ("dictionary", "/panel/dictionary", Role.OPERATOR),
    ("report", "/panel/reports/monthly", Role.VIEWER),
    ("zones", "/panel/zones", Role.VIEWER),
    ("audit", "/panel/audit", Role.ADMIN),
    ("users", "/panel/users", Role.ADMIN),
    ("updates", "/panel/updates", Role.ADMIN),
)


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PasswordChangeRequired(Exception):
    """A first-login password must be changed before anything else."""


class PanelForbidden(Exception):
    """Logged in, but the role or commune scope does not allow this."""

    def __init__(self, reason_key: str) -> None:
        self.reason_key = reason_key


class PanelNotFound(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


@dataclass
class Page:
    request: Request
    ctl: Controller
    lang: str
    identity: Identity | None = None
    _scope: Scope | None = field(default=None, repr=False)

    @property
    def principal(self) -> Principal:
        assert self.identity is not None, "public page has no principal"
        return self.identity.principal

    @property
    def csrf(self) -> str:
        if self.identity is None:
            return ""
        return panel_state(self.request).signer.csrf_token(self.identity.session.nonce)

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)

    def can(self, role: Role) -> bool:
        return self.identity is not None and self.principal.role >= role

    def scope(self, session: Session) -> Scope:
        if self._scope is None:
            self._scope = scope_for(session, self.principal)
        return self._scope

    def require_node(self, session: Session, node_id: str) -> None:
        if not self.scope(session).allows_node(node_id):
            raise PanelNotFound(node_id)

    def audit(
        self,
        session: Session,
        action: str,
        target: str | None,
        detail: str = "",
        username: str | None = None,
    ) -> None:
        """Record who did what; ``username`` only for the login, before a session exists."""
        audit.record(
            session,
            now=self.ctl.clock.now(),
            username=username or (self.identity.principal.username if self.identity else None),
            action=action,
            target=target,
            detail=detail,
            ip=client_ip(self.request),
        )

    def may_send_bulletins(self) -> bool:
        """Whether some commune lies below this user's zones (province, district, admin)."""
        if not self.can(Role.OPERATOR):
            return False
        with self.ctl.sessions() as session:
            scope = self.scope(session)
            return bool(sendable_communes(session, scope, self.principal.communes))

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        nav = [
            (key, href, self.t(f"nav.{key}"))
            for key, href, role in NAV
            if self.identity is not None
            and self.can(role)
            and (key != "bulletin_new" or self.may_send_bulletins())
        ]
        html = (
            environment()
            .get_template(template)
            .render(
                p=self,
                t=self.t,
                nav=nav,
                path=self.request.url.path,
                Role=Role,
                **context,
            )
        )
        return HTMLResponse(html, status_code=status_code)


def client_ip(request: Request) -> str:
    return client_address(request)


def _controller(request: Request) -> Controller:
    ctl: Controller = request.app.state.controller
    return ctl


def language(request: Request) -> str:
    return pick_language(request.query_params.get("lang") or request.cookies.get(COOKIE))


async def _csrf_ok(request: Request, page: Page) -> bool:
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        value = form.get("csrf")
        token = value if isinstance(value, str) else None
    assert page.identity is not None
    return panel_state(request).signer.csrf_ok(page.identity.session.nonce, token)


def page_for(role: Role, allow_password_change: bool = False) -> Callable[..., Awaitable[Page]]:
    async def dependency(request: Request) -> Page:
        ctl = _controller(request)
        identity = read_identity(request, ctl)
        page = Page(request, ctl, language(request), identity)
        if identity is None:
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            raise LoginRequired(target if request.method in SAFE_METHODS else "/panel/")
        if identity.must_change_password and not allow_password_change:
            raise PasswordChangeRequired()
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, page):
            raise PanelForbidden("error.csrf")
        if identity.principal.role < role:
            raise PanelForbidden("error.role")
        return page

    return dependency


def public_page(request: Request) -> Page:
    return Page(request, _controller(request), language(request))


ViewerPage = Annotated[Page, Depends(page_for(Role.VIEWER))]
OperatorPage = Annotated[Page, Depends(page_for(Role.OPERATOR))]
ApproverPage = Annotated[Page, Depends(page_for(Role.APPROVER))]
AdminPage = Annotated[Page, Depends(page_for(Role.ADMIN))]
AnyUserPage = Annotated[Page, Depends(page_for(Role.VIEWER, allow_password_change=True))]
PublicPage = Annotated[Page, Depends(public_page)]
