"""What a Slack HTTP body must be before Bolt sees it: signed (checked on the raw bytes, first), UTF-8,
and shaped like one of Slack's requests. Anything else is refused with 401 or 400 and one log line,
never a 500 with a traceback: whoever can reach the port must not be able to flood the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_AGE = 60 * 5  # seconds; Slack's (and Bolt's) replay window


@dataclass(frozen=True)
class Refusal:
    status: int  # 401: not from Slack; 400: from Slack (or signed) but not a request we understand
    reason: str


def check_signature(secret: str, body: bytes, headers: Any, now: float | None = None) -> Refusal | None:
    """Slack's v0 signature (HMAC-SHA256 of "v0:{timestamp}:{body}") and its five-minute window, over
    the raw bytes as received (slack_sdk's verifier would decode them first, and fail on non-UTF-8)."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    given = headers.get("x-slack-signature") or ""
    if not timestamp.isdigit() or abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE:
        return Refusal(401, "invalid or missing Slack signature")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return Refusal(401, "invalid or missing Slack signature")
    return None


def check_shape(body: bytes, content_type: str) -> Refusal | None:
    """Why the body is malformed, or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return Refusal(400, "the body is not valid JSON")
        return _payload_problem(data)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        try:
            data = json.loads(form["payload"])
        except ValueError:
            return Refusal(400, "the payload is not valid JSON")
        return _payload_problem(data)
    return None  # a slash command: plain form fields


def _payload_problem(data: Any) -> Refusal | None:
    if not isinstance(data, dict):
        return Refusal(400, "the payload is not a JSON object")
    if "event" in data and not isinstance(data["event"], dict):
        return Refusal(400, "the event is not a JSON object")
    if data.get("type") == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return Refusal(400, "block_actions without actions")
    for key in ("user", "channel", "team", "container", "message", "view"):
        if key in data and not isinstance(data[key], (dict, str, type(None))):
            return Refusal(400, f"the payload's {key} is malformed")
    return None
