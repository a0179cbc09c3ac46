"""Waiting for an observable condition instead of sleeping. The deadline only matters when the condition
never comes, so it is generous: the machine may be busy with other work."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEADLINE = 60.0


def wait_until(
    predicate: Callable[[], T], timeout: float = DEADLINE, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll `predicate` until it returns something truthy, and return that; AssertionError on timeout."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what} not met within {timeout:.0f}s")
        time.sleep(interval)
