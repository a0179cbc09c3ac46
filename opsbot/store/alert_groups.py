"""The store's part for alerts: Alertmanager groups (one row, and so one Slack message, per group
across replicas), storm summaries, and the runs an alert started. Mixed into Store."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from opsbot.store.tables import alert_groups, alert_runs, alert_storms

AlertStatus = Literal["firing", "resolved"]


class AlertGroupRecord(BaseModel):
    key: str
    group_key: str
    name: str
    status: AlertStatus
    labels: dict[str, str]
    alerts: dict[str, dict[str, Any]]  # fingerprint -> {status, labels, annotations, starts_at, ends_at}
    channel: str | None = None
    ts: str | None = None
    storm: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    first_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None


class AlertGroupsMixin:
    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[Connection]: ...
        def _read(self) -> AbstractContextManager[Connection]: ...

    # --- groups ----------------------------------------------------------------------------------

    def claim_alert_group(
        self,
        key: str,
        *,
        group_key: str,
        name: str,
        status: AlertStatus,
        labels: dict[str, str],
        alerts: dict[str, dict[str, Any]],
        channel: str,
        now: datetime,
    ) -> bool:
        """True for the one caller (of any replica) that first stores this group; False when it exists."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(alert_groups).values(
                        key=key,
                        group_key=group_key,
                        name=name[:255],
                        status=status,
                        labels=labels,
                        alerts=alerts,
                        channel=channel,
                        first_at=now,
                        updated_at=now,
                        resolved_at=now if status == "resolved" else None,
                    )
                )
        except IntegrityError:
            return False
        return True

    def alert_group(self, key: str) -> AlertGroupRecord | None:
        return self._one_group(alert_groups.c.key == key)

    def alert_group_at(self, channel: str, ts: str) -> AlertGroupRecord | None:
        """The group whose message is at (channel, ts): what a thread under an alert is about."""
        return self._one_group(alert_groups.c.channel == channel, alert_groups.c.ts == ts)

    def _one_group(self, *where: Any) -> AlertGroupRecord | None:
        with self._read() as conn:
            row = conn.execute(select(alert_groups).where(*where)).mappings().first()
        return None if row is None else AlertGroupRecord.model_validate(dict(row))

    def update_alert_group(
        self, key: str, *, status: AlertStatus, alerts: dict[str, dict[str, Any]], now: datetime
    ) -> AlertGroupRecord | None:
        """Store the group's latest state (alerts merged by the caller); returns the row as it now is."""
        with self._write() as conn:
            conn.execute(
                update(alert_groups)
                .where(alert_groups.c.key == key)
                .values(
                    status=status,
                    alerts=alerts,
                    updated_at=now,
                    resolved_at=now if status == "resolved" else None,
                )
            )
        return self.alert_group(key)

    def set_alert_message(self, key: str, channel: str, ts: str) -> None:
        with self._write() as conn:
            conn.execute(update(alert_groups).where(alert_groups.c.key == key).values(channel=channel, ts=ts))

    def set_alert_storm(self, key: str, storm: str) -> None:
        with self._write() as conn:
            conn.execute(update(alert_groups).where(alert_groups.c.key == key).values(storm=storm))

    def ack_alert_group(self, key: str, user: str, now: datetime) -> bool:
        """Record who is on it; False when the group is unknown."""
        with self._write() as conn:
            done = conn.execute(
                update(alert_groups).where(alert_groups.c.key == key).values(acked_by=user, acked_at=now)
            ).rowcount
        return bool(done)

    def count_alert_groups_since(self, since: datetime) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(alert_groups).where(alert_groups.c.first_at >= since)
                ).scalar_one()
            )

    def recent_alert_groups(self, limit: int = 20, status: AlertStatus | None = None) -> list[AlertGroupRecord]:
        query = select(alert_groups).order_by(alert_groups.c.first_at.desc()).limit(limit)
        if status:
            query = query.where(alert_groups.c.status == status)
        with self._read() as conn:
            return [AlertGroupRecord.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    # --- storms ----------------------------------------------------------------------------------

    def claim_alert_storm(self, key: str, channel: str, now: datetime) -> bool:
        """True for the one caller that opens this storm summary (it posts the message)."""
        try:
            with self._write() as conn:
                conn.execute(insert(alert_storms).values(key=key, channel=channel, started_at=now))
        except IntegrityError:
            return False
        return True

    def open_alert_storm(self, since: datetime) -> str | None:
        """The latest storm that started at or after `since` (new groups join it), if any."""
        with self._read() as conn:
            row = conn.execute(
                select(alert_storms.c.key)
                .where(alert_storms.c.started_at >= since)
                .order_by(alert_storms.c.started_at.desc())
                .limit(1)
            ).first()
        return None if row is None else str(row.key)

    def alert_storm_message(self, key: str) -> tuple[str, str | None] | None:
        """(channel, ts) of a storm summary; ts is None until it is posted."""
        with self._read() as conn:
            row = conn.execute(
                select(alert_storms.c.channel, alert_storms.c.ts).where(alert_storms.c.key == key)
            ).first()
        return None if row is None else (row.channel, row.ts)

    def set_alert_storm_message(self, key: str, channel: str, ts: str) -> None:
        with self._write() as conn:
            conn.execute(update(alert_storms).where(alert_storms.c.key == key).values(channel=channel, ts=ts))

    def alert_storm_counts(self, key: str) -> dict[str, dict[str, int]]:
        """Per alert name, how many of the storm's groups fire and how many resolved."""
        query = (
            select(alert_groups.c.name, alert_groups.c.status, func.count())
            .where(alert_groups.c.storm == key)
            .group_by(alert_groups.c.name, alert_groups.c.status)
        )
        out: dict[str, dict[str, int]] = {}
        with self._read() as conn:
            for name, status, count in conn.execute(query):
                out.setdefault(name, {"firing": 0, "resolved": 0})[status] = int(count)
        return out

    # --- runs an alert started -------------------------------------------------------------------

    def record_alert_run(self, request_id: str, alert_key: str, labels: dict[str, str]) -> None:
        with self._write() as conn:
            conn.execute(insert(alert_runs).values(request_id=request_id, alert_key=alert_key, labels=labels))

    def alert_run_labels(self) -> dict[str, dict[str, str]]:
        """request id -> the labels of the alert that started it."""
        with self._read() as conn:
            return {r.request_id: r.labels for r in conn.execute(select(alert_runs.c.request_id, alert_runs.c.labels))}
