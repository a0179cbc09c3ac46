"""The digest scheduler: a daemon thread that, every ~20 s, finds the digest slots that fell due, claims
each in the store and posts the digest through a front end's `post(channel, reply)`.

Safe to run twice: a slot is claimed with `store.mark_event_processed("digest:NAME:SLOT")`, an insert on
a unique key that succeeds for exactly one replica (or one life of a restarted process), so a digest is
posted at most once per slot however many schedulers share the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from opsbot.core.reply import Reply
from opsbot.i18n import _, use_language
from opsbot.pipeline import Pipeline
from opsbot.scheduler.schedule import due_slots, latest_per_digest, slots_between
from opsbot.store.audit import anchor_text

log = logging.getLogger(__name__)

DIGEST_INTENT = "digest.send"
ANCHOR = "audit-anchor"  # the slot name of the audit head's posts
TICK_SECONDS = 20.0
GRACE = timedelta(minutes=10)

Post = Callable[[str, Reply], object]  # what it returns (a message ts) is not used


def utcnow() -> datetime:
    return datetime.now(UTC)


def slot_key(name: str, slot: datetime) -> str:
    return f"digest:{name}:{slot.isoformat()}"


class Scheduler:
    """`pipeline` is the core's Pipeline (its config's digests, its store); `post` puts a Reply in a channel."""

    def __init__(
        self,
        pipeline: Pipeline,
        post: Post,
        *,
        tick: float = TICK_SECONDS,
        grace: timedelta = GRACE,
        now: Callable[[], datetime] = utcnow,
        actor: str = "scheduler",
    ):
        self.pipeline = pipeline
        self.store = pipeline.store
        self.digests = pipeline.config.digests
        self.post = post
        self.tick_seconds = tick
        self.grace = grace
        self.now = now
        self.actor = actor
        self._last: datetime | None = None
        self.ticks = 0  # ticks completed (for status and tests)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the thread ---------------------------------------------------------------------------

    def start(self) -> Scheduler:
        if self._thread is None:
            for name, d in self.digests.items():
                log.info("digest %s: %s UTC to %s (%s)", name, d.schedule, d.channel, ", ".join(d.intents))
            self._thread = threading.Thread(target=self._run, name="opsbot-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a broken tick must not end the schedule
                log.exception("digest scheduler tick failed")
            self._stop.wait(self.tick_seconds)

    # ---- one tick -----------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Post what fell due since the last tick; returns the (name, slot) pairs this scheduler posted.
        The first tick (a start or restart) looks back only `grace`, and after any pause only each
        digest's newest slot is posted: a late digest is useful, a backlog of them is noise."""
        now = now or self.now()
        since = now - self.grace
        if self._last is not None and self._last > since:
            since = self._last
        self._last = now
        posted = []
        for name, slot in latest_per_digest(due_slots(self.digests, since, now)):
            if self._stop.is_set():
                break
            if self.fire(name, slot):
                posted.append((name, slot))
        audit = self.pipeline.config.audit
        if audit.channel:
            slots = slots_between(audit.anchor_schedule, since, now)
            if slots and self.post_anchor(audit.channel, slots[-1]):
                posted.append((ANCHOR, slots[-1]))
        self.ticks += 1
        return posted

    def post_anchor(self, channel: str, slot: datetime) -> bool:
        """The audit chain's head, posted once per slot (claimed like a digest): a copy outside the
        database, so a rewritten chain no longer matches it. Never raises."""
        try:
            if not self.store.mark_event_processed(slot_key(ANCHOR, slot)):
                return False
            seq, digest = self.store.audit_head()
            anchor = anchor_text(seq, digest)
            self.post(
                channel,
                Reply(
                    text=_("Audit anchor {anchor} (check with `opsbot audit verify --anchor {anchor}`)").format(
                        anchor=anchor
                    ),
                    kind="info",
                ),
            )
        except Exception:
            log.exception("posting the audit anchor for %s failed", slot.isoformat())
        return True

    def fire(self, name: str, slot: datetime) -> bool:
        """Claim the slot, build the digest and post it. False when another scheduler has the slot or
        the claim failed. Never raises."""
        try:
            if not self.store.mark_event_processed(slot_key(name, slot)):
                log.info("digest %s for %s: already posted by another scheduler", name, slot.isoformat())
                return False
        except Exception:
            # Without a claim we cannot know whether another replica posts it; skipping is the safe side.
            log.exception("digest %s for %s: could not claim the slot; not posted", name, slot.isoformat())
            return False
        # Claimed first, posted second: if posting fails the slot is lost (and logged), never doubled.
        reply = self.build(name)
        channel = self.digests[name].channel
        try:
            self.post(channel, reply)
        except Exception:
            log.exception("digest %s for %s: posting to %s failed", name, slot.isoformat(), channel)
        return True

    def build(self, name: str) -> Reply:
        """The digest's Reply; a failure becomes an error Reply that still reaches the channel."""
        digest = self.pipeline.config.digests.get(name)
        with use_language(digest.language if digest else None):
            return self._build(name)

    def _build(self, name: str) -> Reply:
        try:
            return self.pipeline.run_scheduled(DIGEST_INTENT, {"name": name}, actor=self.actor)
        except Exception as e:
            log.exception("digest %s failed", name)
            return Reply.error(
                _("The scheduled digest {name} failed ({error}). The error is logged.").format(
                    name=name, error=f"{type(e).__name__}: {e}"
                )
            )
