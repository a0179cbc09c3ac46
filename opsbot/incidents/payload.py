"""Alertmanager's webhook payload (version 4), as data. Everything in it is untrusted: labels and
annotations are kept as strings and only ever reach a command through the rules' validation."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsbot.i18n import _

MAX_BODY = 2_000_000  # Alertmanager sends a few KB per group; a megabyte of alerts is not one group


class PayloadError(ValueError):
    """A body that is not an Alertmanager notification; the message is one sentence for the sender."""


class _Lenient(BaseModel):
    # Alertmanager adds fields over versions; unknown ones are ignored, known ones are typed.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Alert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = Field(None, alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def key(self) -> str:
        """Alertmanager's fingerprint, else one of our own over the labels."""
        if self.fingerprint:
            return self.fingerprint
        text = json.dumps(self.labels, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def started(self) -> datetime | None:
        return _real_time(self.starts_at)

    def ended(self) -> datetime | None:
        return _real_time(self.ends_at)


class Notification(_Lenient):
    version: str
    group_key: str = Field(alias="groupKey", min_length=1)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")
    truncated_alerts: int = Field(0, alias="truncatedAlerts")
    alerts: list[Alert] = Field(min_length=1)

    @property
    def key(self) -> str:
        """The group's identity in the store: receiver and Alertmanager's group key, hashed to a fixed size."""
        return hashlib.sha256(f"{self.receiver}\0{self.group_key}".encode()).hexdigest()

    @property
    def name(self) -> str:
        """What the group is about, for a title: its alertname when the alerts share one."""
        return self.common_labels.get("alertname") or self.group_labels.get("alertname") or self.alerts[0].name

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]


def _real_time(value: datetime | None) -> datetime | None:
    """Alertmanager writes 0001-01-01 for 'not ended'."""
    if value is None or value.year < 2000:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_notification(body: bytes) -> Notification:
    """The notification in `body`; PayloadError (one sentence) when it is not one."""
    if len(body) > MAX_BODY:
        raise PayloadError(_("The body is larger than {limit} bytes; nothing was done.").format(limit=MAX_BODY))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError(_("The body is not JSON; send Alertmanager's webhook payload (version 4).")) from None
    if not isinstance(data, dict):
        raise PayloadError(_("The body is not a JSON object; send Alertmanager's webhook payload (version 4)."))
    if str(data.get("version")) != "4":
        raise PayloadError(
            _("Only Alertmanager's webhook payload version 4 is understood, not {version}.").format(
                version=json.dumps(data.get("version"))[:40]
            )
        )
    try:
        return Notification.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise PayloadError(
            _("The payload is not an Alertmanager notification: {field}: {problem}.").format(
                field=where[:80], problem=first["msg"]
            )
        ) from None
