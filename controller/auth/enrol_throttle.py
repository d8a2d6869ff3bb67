"""Throttle for enrolment attempts, per real client address.

A token's secret has 256 bits, so guessing is hopeless; the throttle keeps a scanner from
costing the controller work and keeps the logs readable. It reuses the login limiter with a
fixed account name, behind this small interface, so the limiter (and the rule for the real
client address behind a trusted proxy) can change in one place.
"""

from __future__ import annotations

from controller.auth.client_address import client_address
from controller.auth.rate_limit import LoginRateLimiter
from protocol.clock import Clock

_ACCOUNT = "(enrolment)"  # the limiter keys on (account, address); one account here


__all__ = ["EnrolThrottle", "client_address"]  # the real client, behind trusted proxies too


class EnrolThrottle:
    def __init__(self, clock: Clock, max_failures: int, window_s: float) -> None:
        self._limiter = LoginRateLimiter(clock, max_failures, window_s)

    def retry_after_s(self, address: str) -> float:
        """0 when an attempt from ``address`` may go ahead, else seconds to wait."""
        return self._limiter.retry_after_s(_ACCOUNT, address)

    def failed(self, address: str) -> None:
        self._limiter.failed(_ACCOUNT, address)
