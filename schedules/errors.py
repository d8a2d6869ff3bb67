"""The one error type of the calendar: bad rules, bad programmes, impossible requests.

The controller turns it into an HTTP 422 (or a CLI error) at the edge, once; ``reason`` is
written for the operator who typed the rule.
"""

from __future__ import annotations


class ScheduleError(ValueError):
    """A schedule input was refused; ``reason`` says why in words an operator understands.

    It subclasses :class:`ValueError` so that raising it inside a pydantic validator yields a
    readable ``ValidationError`` message as well.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
