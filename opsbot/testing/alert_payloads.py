"""Alertmanager webhook payloads (version 4) shaped like the real ones, for specs, `opsbot rules test`
and benchmarks, and a poster that sends them with a bearer token."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

NOT_ENDED = "0001-01-01T00:00:00Z"


def alert(
    labels: dict[str, str],
    status: str = "firing",
    annotations: dict[str, str] | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    started = starts_at or datetime.now(UTC)
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations or {},
        "startsAt": started.isoformat().replace("+00:00", "Z"),
        "endsAt": (ends_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
        if status == "resolved"
        else NOT_ENDED,
        "generatorURL": "http://prometheus.invalid/graph",
        "fingerprint": fingerprint,
    }


def notification(
    alerts: list[dict[str, Any]],
    group_labels: dict[str, str] | None = None,
    receiver: str = "opsbot",
    status: str | None = None,
) -> dict[str, Any]:
    """A notification for one group; its group key follows Alertmanager's `{}:{label="value"}` form."""
    group_labels = group_labels if group_labels is not None else {"alertname": alerts[0]["labels"]["alertname"]}
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items())) + "}"
    return {
        "version": "4",
        "groupKey": key,
        "truncatedAlerts": 0,
        "status": status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved"),
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid",
        "alerts": alerts,
    }


def send(url: str, payload: dict[str, Any] | bytes, token: str | None, timeout: float = 30) -> tuple[int, str]:
    """POST a payload as Alertmanager does; (status, body text)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
