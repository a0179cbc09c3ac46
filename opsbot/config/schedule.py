"""Digest schedules as the config writes them: "09:00" (daily, UTC), a list of those, or "every 30m".
Parsing lives with the config so a bad schedule is refused at load with the file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from opsbot.core.durations import parse_duration

_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EVERY = re.compile(r"^every\s+(\S+)$", re.IGNORECASE)
MIN_INTERVAL = 60  # the scheduler ticks every ~20 s; finer schedules would be missed
MAX_INTERVAL = 86400  # longer than a day: use "HH:MM"


@dataclass(frozen=True)
class Daily:
    at: time  # UTC


@dataclass(frozen=True)
class Every:
    seconds: int  # slots are whole multiples of this since 1970-01-01 UTC, so every
    # replica computes the same slots whenever it started


def parse_schedule(schedule: str | list[str]) -> list[Daily | Every]:
    """The parts of a schedule; ValueError naming the bad part otherwise."""
    items = [schedule] if isinstance(schedule, str) else list(schedule)
    if not items:
        raise ValueError("schedule is empty; write a time like '09:00', a list of them, or 'every 1h'")
    return [_parse_one(item) for item in items]


def _parse_one(item: str) -> Daily | Every:
    if not isinstance(item, str):
        raise ValueError(f"schedule entry {item!r} must be a string like '09:00' or 'every 1h'")
    text = item.strip()
    m = _DAILY.match(text)
    if m:
        return Daily(time(int(m.group(1)), int(m.group(2))))
    m = _EVERY.match(text)
    if m:
        try:
            seconds = parse_duration(m.group(1))
        except ValueError as e:
            raise ValueError(f"schedule {item!r}: {e}") from None
        if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
            raise ValueError(f"schedule {item!r}: the interval must be between 1m and 24h")
        if seconds % 60:
            raise ValueError(f"schedule {item!r}: the interval must be whole minutes")
        return Every(seconds)
    raise ValueError(
        f"schedule {item!r} is not a time of day in UTC ('09:00', 24-hour HH:MM) "
        "or an interval ('every 30m', 'every 1h')"
    )
