"""`opsbot tune --schedule`: tune unattended at the times `tuning.schedule` names (the digests' format:
"03:00" UTC daily, a list, or "every 6h"), always through the gate (`tuning.gate`), and post what
changed, or why nothing was written, to `tuning.channel`. Runs until stopped; one process is enough
(a tune that finds nothing new writes nothing, so a second one running by mistake does no harm)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from opsbot.config import Config
from opsbot.scheduler.schedule import slots_between
from opsbot.tuning.tune import describe, tune

Post = Callable[[str], None]


def run_once(config: Config, store, post: Post) -> str:
    """One unattended tune through the gate; posts the summary when something was promoted or refused."""
    from opsbot.rules.loader import load_for

    result = tune(store, load_for(config), config, gate=config.tuning.gate or None)
    text = describe(result)
    if result.promoted or result.refused:
        post(f"opsbot tune (scheduled): {text}")
    return text


def next_slot(schedule: str | list[str], now: datetime) -> datetime:
    for days in (1, 8):  # daily and interval schedules have a slot within a day; a week is plenty
        slots = [s for s in slots_between(schedule, now, now + timedelta(days=days)) if s > now]
        if slots:
            return min(slots)
    raise ValueError(f"the schedule {schedule!r} has no time in the next week")


def run_forever(
    config: Config,
    store,
    post: Post,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
) -> None:
    schedule = config.tuning.schedule
    if not schedule:
        raise ValueError("tuning.schedule is not set (e.g. tuning: {schedule: '03:00', gate: [...], channel: ...})")
    done = 0
    while rounds is None or done < rounds:
        slot = next_slot(schedule, now())
        sleep(max(0.0, (slot - now()).total_seconds()))
        print(run_once(config, store, post), flush=True)
        done += 1
