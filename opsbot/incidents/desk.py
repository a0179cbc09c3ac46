"""The incident desk: what happens to an Alertmanager notification once it was accepted.

Alertmanager re-sends a group (repeat_interval), sends it again when alerts join or resolve, and may
send one notification to two replicas. The group's row in the store is claimed by inserting it, so one
replica posts the group's message; later notifications update that message (alerts joined, resolved
with its duration) or, when nothing changed, do nothing. The first post of a firing group is followed by
its diagnosis, in the message's thread: the read-only intents its alert rule names, run through the
same rules and validation as a typed request. When more than `alertmanager.storm` new groups arrive
within a minute, further groups are counted in one storm summary message instead of one message each.

The front end gives the desk a Poster (post, update, reply in a thread); the desk knows no Slack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from opsbot.config import Config
from opsbot.core.reply import Reply
from opsbot.core.request import Request
from opsbot.i18n import _
from opsbot.incidents.message import group_reply, short, storm_reply
from opsbot.incidents.payload import Alert, Notification
from opsbot.incidents.steps import FilledStep, fill, match
from opsbot.rules.alert_schema import AlertRule
from opsbot.rules.loader import RuleSet
from opsbot.store import Store
from opsbot.store.alert_groups import AlertGroupRecord

log = logging.getLogger(__name__)

STORM_WINDOW = timedelta(minutes=1)
MAX_DIAGNOSED_ALERTS = 3  # alerts of one group whose diagnosis runs (distinct steps only)
ACTOR = "alertmanager"  # who the diagnoses run as, in the store and the audit trail
FRONTEND = "alertmanager"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Poster(Protocol):
    """How the desk speaks: a front end's messages (Slack, the console)."""

    def post(self, channel: str, reply: Reply) -> tuple[str, str]:
        """A new top-level message; returns where it is: the channel's id and the message's (Slack's ts)."""
        ...

    def update(self, channel: str, ts: str, reply: Reply) -> None: ...

    def reply_in_thread(self, channel: str, ts: str, reply: Reply) -> None:
        """An answer under the message (charts included)."""
        ...


def alert_data(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at.isoformat() if alert.started() and alert.starts_at else None,
        "ends_at": alert.ends_at.isoformat() if alert.ended() and alert.ends_at else None,
    }


def essence(alerts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What makes a group's message differ: which alerts, and whether each fires (not the annotations'
    changing numbers, nor times)."""
    return {k: a.get("status") for k, a in alerts.items()}


class IncidentDesk:
    def __init__(
        self,
        config: Config,
        rules: RuleSet,
        store: Store,
        pipeline: Any,  # opsbot.pipeline.Pipeline (run_for_alert)
        poster: Poster,
        *,
        now: Callable[[], datetime] = utcnow,
        storm_refresh: float = 1.0,
    ):
        self.config = config
        self.settings = config.alertmanager
        self.rules = rules
        self.store = store
        self.pipeline = pipeline
        self.poster = poster
        self.now = now
        self.storm_refresh = storm_refresh
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._timer: threading.Timer | None = None
        self.listeners: list[Callable[[str, AlertGroupRecord], None]] = []  # e.g. the console's live lines

    # ---- the flow ---------------------------------------------------------------------------------

    def receive(self, n: Notification) -> None:
        """Handle one notification (on a worker thread). Raises only when the store or the poster fails."""
        now = self.now()
        labels = self.labels_of(n)
        rule = match(self.rules.alerts, labels)
        channel = (rule.channel if rule else None) or self.settings.channel
        alerts = {a.key: alert_data(a) for a in n.alerts}
        claimed = self.store.claim_alert_group(
            n.key,
            group_key=n.group_key,
            name=n.name or "alert",
            status=n.status,
            labels=n.common_labels or labels,
            alerts=alerts,
            channel=channel,
            now=now,
        )
        if claimed:
            self._first(n.key, rule, channel, now)
        else:
            self._again(n.key, n.status, alerts, now)

    def _first(self, key: str, rule: AlertRule | None, channel: str, now: datetime) -> None:
        group = self.store.alert_group(key)
        assert group is not None  # just claimed
        self._tell("new", group)
        if self.store.count_alert_groups_since(now - STORM_WINDOW) > self.settings.storm:
            self._fold_into_storm(group, channel, now)
            return
        channel, ts = self.poster.post(channel, self._draw(group, now))
        self.store.set_alert_message(key, channel, ts)
        latest = self.store.alert_group(key)  # another replica may have stored an update meanwhile
        if latest is not None and (latest.status != group.status or essence(latest.alerts) != essence(group.alerts)):
            self.poster.update(channel, ts, self._draw(latest, self.now()))
        if group.status == "firing" and rule is not None and rule.diagnose:
            self.diagnose(group, rule, channel, ts)

    def _again(self, key: str, status: str, alerts: dict[str, dict[str, Any]], now: datetime) -> None:
        before = self.store.alert_group(key)
        if before is None:
            return
        merged = {**before.alerts, **alerts}
        if status == before.status and essence(merged) == essence(before.alerts):
            return  # a repeat (repeat_interval, or the same notification sent to another replica)
        group = self.store.update_alert_group(key, status=status, alerts=merged, now=now)  # type: ignore[arg-type]
        if group is None:
            return
        self._tell("resolved" if group.status == "resolved" else "update", group)
        if group.storm:
            self._touch_storm(group.storm)
        elif group.ts and group.channel:
            self.poster.update(group.channel, group.ts, self._draw(group, now))

    def refresh(self, key: str) -> None:
        """Redraw a group's message from the store (after an ack or a silence)."""
        group = self.store.alert_group(key)
        if group is not None and group.ts and group.channel and not group.storm:
            self.poster.update(group.channel, group.ts, self._draw(group, self.now()))

    def _draw(self, group: AlertGroupRecord, now: datetime) -> Reply:
        """The group's message as it now is."""
        return group_reply(group, self.suggestion_labels(group), now)

    # ---- diagnosis --------------------------------------------------------------------------------

    def diagnose(self, group: AlertGroupRecord, rule: AlertRule, channel: str, ts: str) -> None:
        """Run the rule's read-only steps for the group's firing alerts; each answer goes in the thread."""
        done: set[str] = set()
        skipped: list[str] = []
        firing = [a for a in group.alerts.values() if a.get("status") == "firing"][:MAX_DIAGNOSED_ALERTS]
        for alert in firing:
            labels = alert.get("labels") or {}
            for step in rule.diagnose:
                filled = fill(step, labels, self.config.inventory)
                seen = f"{filled.intent}{sorted(filled.params.items())}{filled.problem}"
                if seen in done:
                    continue
                done.add(seen)
                if filled.problem:
                    skipped.append(f"{filled.intent}: {filled.problem}")
                    continue
                self._run(group, labels, filled, channel, ts)
        if skipped:
            self.poster.reply_in_thread(
                channel,
                ts,
                Reply(
                    text=_("Not run for this alert: {steps}.").format(steps="; ".join(short(s, 200) for s in skipped)),
                    kind="info",
                ),
            )

    def _run(self, group: AlertGroupRecord, labels: dict[str, str], step: FilledStep, channel: str, ts: str) -> None:
        shown = " ".join(f"{k}={short(str(v), 60)}" for k, v in step.params.items())
        req = Request(
            text=f"[{short(group.name, 60)}] {step.intent} {shown}".strip(),
            user=ACTOR,
            channel=channel,
            thread=ts,
            frontend=FRONTEND,
        )
        reply = self.pipeline.run_for_alert(req, step.intent, step.params)
        try:
            self.store.record_alert_run(req.id, group.key, labels)
        except Exception:
            log.warning("could not link run %s to its alert", req.id, exc_info=True)
        self._tell("diagnosis:" + reply.text, group)
        self.poster.reply_in_thread(channel, ts, reply)

    def suggestions(self, group: AlertGroupRecord) -> list[FilledStep]:
        """The rule's suggested changes for this group, filled from its first firing alert; only those
        that could be filled."""
        labels = self.labels_of_group(group)
        rule = match(self.rules.alerts, labels)
        if rule is None:
            return []
        filled = [fill(s, labels, self.config.inventory) for s in rule.suggest]
        return [f for f in filled if f.problem is None]

    def suggestion_labels(self, group: AlertGroupRecord) -> list[str]:
        return [short(" ".join([s.intent, *(str(v) for v in s.params.values())]), 60) for s in self.suggestions(group)]

    @staticmethod
    def labels_of(n: Notification) -> dict[str, str]:
        first = (n.firing() or n.alerts)[0]
        return {**n.common_labels, **first.labels}

    @staticmethod
    def labels_of_group(group: AlertGroupRecord) -> dict[str, str]:
        alerts = list(group.alerts.values())
        firing = [a for a in alerts if a.get("status") == "firing"] or alerts
        return {**group.labels, **((firing[0].get("labels") or {}) if firing else {})}

    # ---- storms -----------------------------------------------------------------------------------

    def _fold_into_storm(self, group: AlertGroupRecord, channel: str, now: datetime) -> None:
        key = self.store.open_alert_storm(now - STORM_WINDOW) or f"storm:{now:%Y-%m-%dT%H:%M}"
        self.store.set_alert_storm(group.key, key)
        if self.store.claim_alert_storm(key, channel, now):
            channel, ts = self.poster.post(channel, storm_reply(self.store.alert_storm_counts(key)))
            self.store.set_alert_storm_message(key, channel, ts)
        self._touch_storm(key)

    def _touch_storm(self, key: str) -> None:
        """The summary is edited at most once per `storm_refresh` seconds, whatever the rate of groups."""
        with self._lock:
            self._dirty.add(key)
            if self._timer is None:
                self._timer = threading.Timer(self.storm_refresh, self.flush_storms)
                self._timer.daemon = True
                self._timer.start()

    def flush_storms(self) -> None:
        with self._lock:
            keys, self._dirty, self._timer = self._dirty, set(), None
        for key in keys:
            try:
                where = self.store.alert_storm_message(key)
                if where is not None and where[1]:
                    self.poster.update(where[0], where[1], storm_reply(self.store.alert_storm_counts(key)))
            except Exception:
                log.warning("could not update the storm summary %s", key, exc_info=True)

    def close(self) -> None:
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.cancel()
        self.flush_storms()

    # ---- listeners (the console shows alerts as they arrive) --------------------------------------

    def _tell(self, event: str, group: AlertGroupRecord) -> None:
        for listener in self.listeners:
            try:
                listener(event, group)
            except Exception:
                log.warning("an alert listener failed", exc_info=True)
