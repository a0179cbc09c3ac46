"""When digests are due: schedules ("09:00", ["09:00", "17:30"], "every 30m") and the slots that fell
in a time window. Pure functions of their arguments; times are UTC."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Mapping

from opsbot.durations import parse_duration

_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EVERY = re.compile(r"^every\s+(\S+)$", re.IGNORECASE)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MIN_INTERVAL = 60               # the scheduler ticks every ~20 s; finer schedules would be missed
MAX_INTERVAL = 86400            # longer than a day: use "HH:MM"


@dataclass(frozen=True)
class Daily:
    at: time                    # UTC


@dataclass(frozen=True)
class Every:
    seconds: int                # slots are whole multiples of this since 1970-01-01 UTC, so every
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
    raise ValueError(f"schedule {item!r} is not a time of day in UTC ('09:00', 24-hour HH:MM) "
                     "or an interval ('every 30m', 'every 1h')")


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value.astimezone(timezone.utc)


def slots_between(schedule: str | list[str], start: datetime, end: datetime) -> list[datetime]:
    """The slots of one schedule in (start, end], oldest first."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        return []
    found: set[datetime] = set()
    for part in parse_schedule(schedule):
        if isinstance(part, Daily):
            day = start.date()
            while day <= end.date():
                slot = datetime.combine(day, part.at, tzinfo=timezone.utc)
                if start < slot <= end:
                    found.add(slot)
                day += timedelta(days=1)
        else:
            step = timedelta(seconds=part.seconds)
            first = (start - EPOCH) // step + 1          # timedelta arithmetic: exact, no float rounding
            last = (end - EPOCH) // step
            for k in range(first, last + 1):
                found.add(EPOCH + k * step)
    return sorted(found)


def due_slots(digests: Mapping, last_check: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """Every (digest name, slot) whose slot fell in (last_check, now], oldest first. `digests` maps a
    name to a DigestConfig (anything with a `schedule`)."""
    out = [(name, slot) for name, digest in digests.items()
           for slot in slots_between(digest.schedule, last_check, now)]
    return sorted(out, key=lambda pair: (pair[1], pair[0]))


def latest_per_digest(slots: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """Only each digest's newest slot: after a pause, one digest per name, not a backlog."""
    latest: dict[str, datetime] = {}
    for name, slot in slots:
        if name not in latest or slot > latest[name]:
            latest[name] = slot
    return sorted(latest.items(), key=lambda pair: (pair[1], pair[0]))
