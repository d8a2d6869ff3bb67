"""One place for the fuzz case budget: many cases, no deadline, whole directory < 2 minutes.

``LOA_FUZZ_SCALE`` multiplies every test's base count (0.1 for a quick local look, 5 for a
long soak) without editing the tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

F = TypeVar("F", bound=Callable[..., Any])

SCALE = float(os.environ.get("LOA_FUZZ_SCALE", "1"))


def fuzz_settings(base_examples: int, minimum: int = 10) -> Callable[[F], F]:
    """``@settings`` with ``base_examples`` x scale cases (at least ``minimum``), no deadline,
    fixtures allowed. A smaller ``minimum`` is for one share of a budget split several ways."""
    return settings(  # type: ignore[return-value]
        max_examples=max(minimum, int(base_examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        derandomize=False,
    )
