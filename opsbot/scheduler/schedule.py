"""When digests are due: schedules ("09:00", ["09:00", "17:30"], "every 30m") and the slots that fell
in a time window. Pure functions of their arguments; times are UTC."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from opsbot.config.schedule import Daily, parse_schedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value.astimezone(UTC)


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
                slot = datetime.combine(day, part.at, tzinfo=UTC)
                if start < slot <= end:
                    found.add(slot)
                day += timedelta(days=1)
        else:
            step = timedelta(seconds=part.seconds)
            first = (start - EPOCH) // step + 1  # timedelta arithmetic: exact, no float rounding
            last = (end - EPOCH) // step
            for k in range(first, last + 1):
                found.add(EPOCH + k * step)
    return sorted(found)


def due_slots(digests: Mapping, last_check: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """Every (digest name, slot) whose slot fell in (last_check, now], oldest first. `digests` maps a
    name to a DigestConfig (anything with a `schedule`)."""
    out = [(name, slot) for name, digest in digests.items() for slot in slots_between(digest.schedule, last_check, now)]
    return sorted(out, key=lambda pair: (pair[1], pair[0]))


def latest_per_digest(slots: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """Only each digest's newest slot: after a pause, one digest per name, not a backlog."""
    latest: dict[str, datetime] = {}
    for name, slot in slots:
        if name not in latest or slot > latest[name]:
            latest[name] = slot
    return sorted(latest.items(), key=lambda pair: (pair[1], pair[0]))
