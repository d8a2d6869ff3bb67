"""Why an upstream alert was refused; the route turns it into a 4xx with ``reason``."""

from __future__ import annotations


class AlertRejected(ValueError):
    """The alert is not acceptable (malformed, dangerous, invalid or expired); nothing is
    broadcast. ``status`` is the HTTP status the edge should answer with."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
