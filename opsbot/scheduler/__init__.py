"""Scheduled digests: when they are due (schedule.py) and the thread that posts them (scheduler.py)."""

from opsbot.scheduler.schedule import due_slots, latest_per_digest, parse_schedule, slots_between
from opsbot.scheduler.scheduler import DIGEST_INTENT, Scheduler, slot_key

__all__ = [
    "DIGEST_INTENT",
    "Scheduler",
    "due_slots",
    "latest_per_digest",
    "parse_schedule",
    "slot_key",
    "slots_between",
]
