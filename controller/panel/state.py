"""What the panel holds while the app runs: the cookie signer and the login limiter."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from controller.auth.rate_limit import LoginRateLimiter
from controller.auth.session_cookie import SessionSigner


@dataclass
class PanelState:
    signer: SessionSigner
    limiter: LoginRateLimiter
    secure_cookies: bool


def panel_state(request: Request) -> PanelState:
    state: PanelState = request.app.state.panel
    return state
