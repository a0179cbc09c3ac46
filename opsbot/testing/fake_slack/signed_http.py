"""HTTP mode as Slack does it: the v0 request signature and a poster that signs its bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from opsbot.testing.fake_slack.workspace import SIGNING_SECRET


def signature(secret: str, body: str, timestamp: str) -> str:
    """Slack's v0 signature: HMAC-SHA256 over "v0:{timestamp}:{body}" with the signing secret."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, timestamp: int | None = None, content_type: str = "application/x-www-form-urlencoded"
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, body, ts),
    }


def command_body(command: dict) -> str:
    return urllib.parse.urlencode(command)


def interactive_body(payload: dict) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


@dataclass
class Posted:
    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SignedPoster:
    """Posts to a Bolt HTTP endpoint as Slack does: signed bodies, Slack's content types."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET, timeout: float = 30.0):
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def post(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict | None = None,
    ) -> Posted:
        hdrs = signed_headers(secret or self.secret, body, timestamp, content_type)
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url, data=body.encode(), headers=hdrs, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return Posted(resp.status, resp.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as e:
            return Posted(e.code, e.read().decode(), time.perf_counter() - started)

    def command(self, command: dict, **kw) -> Posted:
        return self.post(command_body(command), **kw)

    def event(self, body: dict, **kw) -> Posted:
        return self.post(json.dumps(body), "application/json", **kw)

    def interactive(self, payload: dict, **kw) -> Posted:
        return self.post(interactive_body(payload), **kw)
