"""What the panel holds while the app runs: cookie signer, login limiter, confirm tokens."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from controller.auth.rate_limit import LoginRateLimiter
from controller.auth.session_cookie import SessionSigner
from controller.panel.confirm_token import ConfirmationTokens


@dataclass
class PanelState:
    signer: SessionSigner
    limiter: LoginRateLimiter
    secure_cookies: bool
    confirmations: ConfirmationTokens


def panel_state(request: Request) -> PanelState:
    state: PanelState = request.app.state.panel
    return state
