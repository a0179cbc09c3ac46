"""Local stand-ins for Slack, so the real slack_bolt / slack_sdk code runs against something that speaks
Slack's protocols on 127.0.0.1 (Bolt's own tests do the same).

- `FakeSlackWebAPI`: an HTTP server for the Web API methods opsbot uses (auth.test, chat.postMessage,
  chat.update, chat.postEphemeral, views.open, the files_upload_v2 sequence files.getUploadURLExternal →
  upload to a URL it serves → files.completeUploadExternal, apps.connections.open, and response_url
  posts). It records every call with its parameters and can be told to answer the next call of a
  method with HTTP 429 + Retry-After, or with an API error.
- `FakeSocketMode`: a WebSocket server speaking the Socket Mode envelope protocol (hello; events_api,
  slash_commands and interactive envelopes with an envelope_id; it records acks by envelope id).
- Payload builders shaped like what Slack sends (event callbacks, slash commands, block actions,
  view submissions) and `signed_headers`, the v0 request signature, for HTTP mode.

Nothing here talks to anything but the loopback interface.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from opsbot.testing.threaded import ThreadedServer

TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0OPSBOT"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"

_ts_counter = itertools.count(1)
_ts_lock = threading.Lock()


def new_ts() -> str:
    """A fresh, increasing Slack timestamp ("1700000000.000123")."""
    with _ts_lock:
        n = next(_ts_counter)
    return f"{int(time.time())}.{n:06d}"


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


# ---- the Web API ----------------------------------------------------------------------------------


@dataclass
class Call:
    """One request the fake Web API received."""

    method: str  # "chat.postMessage", "upload" (a file body), "response_url"
    params: dict[str, Any]
    token: str | None
    status: int = 200  # the HTTP status it answered
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class FakeSlackWebAPI(ThreadedServer):
    """`with FakeSlackWebAPI() as slack:` → point WebClient(base_url=slack.base_url) at it."""

    def __init__(self, host: str = "127.0.0.1", socket_mode: "FakeSocketMode | None" = None):
        self.host = host
        self.socket_mode = socket_mode
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._rate_limits: dict[str, list[int]] = {}
        self._failures: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> the message as it stands
        self.uploads: dict[str, bytes] = {}  # file id -> bytes received at the upload URL
        self._pending_files: dict[str, dict] = {}
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle
    def start(self) -> "FakeSlackWebAPI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        self._run_in_thread(server, "fake-slack-web-api")
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return self._server.server_address[1]

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The Web API base, for WebClient(base_url=...), SLACK_API_URL or slack.base_url."""
        return f"{self.root}/api/"

    def response_url(self, name: str | None = None) -> str:
        """A response_url (as in slash command and interactive payloads) that lands here."""
        return f"{self.root}/response/{name or uuid.uuid4().hex[:8]}"

    # -- what the tests steer and read
    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        """The next call of `method` is answered with HTTP 429 and `Retry-After: retry_after`."""
        with self._cond:
            self._rate_limits.setdefault(method, []).append(retry_after)

    def fail_next(self, method: str, error: str) -> None:
        """The next call of `method` is answered with {"ok": false, "error": error}."""
        with self._cond:
            self._failures.setdefault(method, []).append(error)

    def calls(self, method: str | None = None, *, ok_only: bool = True) -> list[Call]:
        """Calls received so far, oldest first; by default only those answered with HTTP 200."""
        with self._cond:
            return [
                c for c in self._calls if (method is None or c.method == method) and (not ok_only or c.status == 200)
            ]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 60.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Block until at least `count` matching calls arrived; returns them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls if c.method == method and c.status == 200 and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(c.method for c in self._calls) or "nothing"
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got {len(found)}; calls so far: {seen}"
                    )
                self._cond.wait(left)

    def reset(self) -> None:
        with self._cond:
            self._calls.clear()

    # -- the HTTP side
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        parts = url.path.strip("/").split("/")
        if parts[0] == "upload" and len(parts) == 2:
            self._record_upload(h, parts[1], raw)
            return
        if parts[0] == "response" and len(parts) == 2:
            params = _decode(raw, h.headers.get("Content-Type", ""))
            self._record(Call("response_url", {"name": parts[1], **params}, None))
            self._send(h, 200, b"ok", "text/plain")
            return
        if parts[0] != "api" or len(parts) != 2:
            self._send(h, 404, b"not found", "text/plain")
            return
        method = parts[1]
        params = dict(urllib.parse.parse_qsl(url.query))
        params.update(_decode(raw, h.headers.get("Content-Type", "")))
        token = params.pop("token", None)
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        with self._cond:
            limited = self._rate_limits.get(method)
            retry_after = limited.pop(0) if limited else None
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            self._record(Call(method, params, token, status=429, response=body))
            self._send(h, 429, json.dumps(body).encode(), "application/json", {"Retry-After": str(retry_after)})
            return
        if failure is not None:
            body = {"ok": False, "error": failure}
        elif not token:
            body = {"ok": False, "error": "not_authed"}
        elif method == "apps.connections.open" and not token.startswith("xapp-"):
            body = {"ok": False, "error": "invalid_auth"}
        elif method != "apps.connections.open" and not token.startswith(("xoxb-", "xoxp-")):
            body = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            body = handler(params) if handler else {"ok": False, "error": "unknown_method"}
        self._record(Call(method, params, token, response=body))
        self._send(h, 200, json.dumps(body).encode(), "application/json")

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _record_upload(self, h: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        with self._cond:
            known = file_id in self._pending_files
            if known:
                self.uploads[file_id] = raw
        self._record(Call("upload", {"file_id": file_id, "length": len(raw)}, None, status=200 if known else 404))
        if known:
            self._send(h, 200, f"OK - {len(raw)}".encode(), "text/plain")
        else:
            self._send(h, 404, b"unknown upload", "text/plain")

    # -- the methods
    def _m_auth_test(self, p: dict) -> dict:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake Team",
            "user": "opsbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, p: dict, ts: str) -> dict:
        msg = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "ts": ts,
            "text": p.get("text", ""),
            "blocks": p.get("blocks") or [],
            "team": TEAM_ID,
        }
        if p.get("thread_ts"):
            msg["thread_ts"] = p["thread_ts"]
        return msg

    def _m_chat_postMessage(self, p: dict) -> dict:
        if not p.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not p.get("text") and not p.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = new_ts()
        msg = self._message(p, ts)
        with self._cond:
            self.messages[(p["channel"], ts)] = msg
        return {"ok": True, "channel": p["channel"], "ts": ts, "message": msg}

    def _m_chat_update(self, p: dict) -> dict:
        key = (p.get("channel"), p.get("ts"))
        with self._cond:
            msg = self.messages.get(key)
            if msg is None:
                return {"ok": False, "error": "message_not_found"}
            msg.update(text=p.get("text", msg["text"]), blocks=p.get("blocks") or [])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": msg["text"], "message": msg}

    def _m_chat_postEphemeral(self, p: dict) -> dict:
        if not p.get("channel") or not p.get("user"):
            return {"ok": False, "error": "channel_not_found" if not p.get("channel") else "user_not_in_channel"}
        return {"ok": True, "message_ts": new_ts()}

    def _m_chat_delete(self, p: dict) -> dict:
        with self._cond:
            gone = self.messages.pop((p.get("channel"), p.get("ts")), None)
        return (
            {"ok": True, "channel": p.get("channel"), "ts": p.get("ts")}
            if gone
            else {"ok": False, "error": "message_not_found"}
        )

    def _m_views_open(self, p: dict) -> dict:
        if not p.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = p.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {
            "ok": True,
            "view": {
                **view,
                "id": new_id("V"),
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "state": {"values": {}},
                "hash": uuid.uuid4().hex,
            },
        }

    def _m_files_getUploadURLExternal(self, p: dict) -> dict:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = new_id("F")
        with self._cond:
            self._pending_files[file_id] = {"filename": p["filename"], "length": int(p["length"])}
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict) -> dict:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        out = []
        with self._cond:
            for f in files:
                fid = f.get("id")
                if fid not in self.uploads:
                    return {"ok": False, "error": "file_not_found"}
                pending = self._pending_files[fid]
                if pending["length"] != len(self.uploads[fid]):
                    return {"ok": False, "error": "file_upload_size_mismatch"}
                out.append(
                    {
                        "id": fid,
                        "name": pending["filename"],
                        "title": f.get("title") or pending["filename"],
                        "size": pending["length"],
                        "mimetype": "image/png",
                    }
                )
        return {"ok": True, "files": out}

    def _m_files_info(self, p: dict) -> dict:
        return {"ok": True, "file": {"id": p.get("file")}}

    def _m_apps_connections_open(self, p: dict) -> dict:
        if self.socket_mode is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_mode.url}

    def _m_users_info(self, p: dict) -> dict:
        uid = p.get("user", "")
        return {"ok": True, "user": {"id": uid, "name": uid.lower(), "real_name": uid, "is_bot": False}}


def _decode(raw: bytes, ctype: str) -> dict:
    """Form or JSON body -> dict; JSON-in-a-form fields (blocks, view, files) decoded too."""
    if not raw:
        return {}
    text = raw.decode("utf-8", "replace")
    if "json" in ctype:
        data = json.loads(text)
    else:
        data = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "view", "files", "attachments"):
        if isinstance(data.get(key), str):
            try:
                data[key] = json.loads(data[key])
            except ValueError:
                pass
    return data


# ---- Socket Mode ----------------------------------------------------------------------------------


@dataclass
class Ack:
    envelope_id: str
    payload: dict | None
    latency: float  # seconds between sending the envelope and receiving its ack


class FakeSocketMode(ThreadedServer):
    """A Socket Mode endpoint: `apps.connections.open` on the fake Web API hands out `url`."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.acks: dict[str, Ack] = {}
        self._sent_at: dict[str, float] = {}
        self._cond = threading.Condition()
        self._conn = None
        self.connections = 0
        self._server = None

    def start(self) -> "FakeSocketMode":
        try:
            from websockets.sync.server import serve
        except ImportError as e:  # pragma: no cover - websockets is a dependency
            raise RuntimeError("FakeSocketMode needs the `websockets` package (pip install websockets)") from e
        self._run_in_thread(serve(self._handle, self.host, 0), "fake-socket-mode")
        return self

    @property
    def port(self) -> int:
        return self._server.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/link/?ticket={uuid.uuid4().hex}&app_id={APP_ID}"

    def _handle(self, conn) -> None:
        with self._cond:
            self._conn = conn
            self.connections += 1
            self._cond.notify_all()
        conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        try:
            for message in conn:
                try:
                    data = json.loads(message)
                except ValueError:
                    continue
                eid = data.get("envelope_id")
                if eid:
                    with self._cond:
                        sent = self._sent_at.get(eid, time.monotonic())
                        self.acks[eid] = Ack(eid, data.get("payload"), time.monotonic() - sent)
                        self._cond.notify_all()
        except Exception:  # connection closed: the client reconnects through apps.connections.open
            pass
        finally:
            with self._cond:
                if self._conn is conn:
                    self._conn = None

    def wait_connected(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._conn is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no Socket Mode client connected")
                self._cond.wait(left)

    def send(
        self,
        kind: str,
        payload: dict,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
    ) -> str:
        """Deliver one envelope ("events_api", "slash_commands", "interactive"); returns its id."""
        self.wait_connected()
        eid = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": eid,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api"
            if accepts_response_payload is None
            else accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        with self._cond:
            self._sent_at[eid] = time.monotonic()
            conn = self._conn
        conn.send(json.dumps(envelope))
        return eid

    def send_event(self, body: dict, **kw) -> str:
        return self.send("events_api", body, **kw)

    def send_command(self, command: dict, **kw) -> str:
        return self.send("slash_commands", command, **kw)

    def send_interactive(self, payload: dict, **kw) -> str:
        return self.send("interactive", payload, **kw)

    def wait_ack(self, envelope_id: str, timeout: float = 30.0) -> Ack:
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope_id} was not acknowledged within {timeout}s")
                self._cond.wait(left)
            return self.acks[envelope_id]

    def wait_all_acked(self, timeout: float = 30.0) -> None:
        """Block until every envelope sent so far has been acknowledged (its listener has run)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while unacked := set(self._sent_at) - set(self.acks):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(unacked)} envelope(s) not acknowledged within {timeout}s")
                self._cond.wait(left)


# ---- payloads, shaped as Slack sends them ---------------------------------------------------------


def event_callback(event: dict, *, team_id: str = TEAM_ID, event_id: str | None = None) -> dict:
    """The Events API body around one event."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_mention(text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None) -> dict:
    ts = ts or new_ts()
    ev = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def message(
    text: str,
    *,
    user: str | None,
    channel: str,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra,
) -> dict:
    """A `message` event (message.channels / message.im); extra keys (bot_id, subtype) as given."""
    ts = ts or new_ts()
    ev = {
        "type": "message",
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
        "team": TEAM_ID,
        **extra,
    }
    if user:
        ev["user"] = user
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def slash_command(
    text: str,
    *,
    user: str,
    channel: str,
    command: str = "/ops",
    team_id: str = TEAM_ID,
    response_url: str = "http://127.0.0.1:9/response/none",
    trigger_id: str | None = None,
) -> dict:
    """A slash command's fields (form-encoded in HTTP mode, a JSON object in Socket Mode)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message: dict,
    block_id: str = "b",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str = "http://127.0.0.1:9/response/none",
) -> dict:
    """A click on a button in `message` (a dict with at least ts, and thread_ts when in a thread)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
        },
        "trigger_id": trigger_id or f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "ops"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": value[:20]},
                "action_ts": str(time.time()),
            }
        ],
    }


def view_submission(view: dict, values: dict[str, dict[str, dict]], *, user: str, team_id: str = TEAM_ID) -> dict:
    """The submission of a modal as opened with views.open (`view` as the fake returned it)."""
    submitted = {**view, "state": {"values": values}}
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def find_button(blocks: list[dict], action_prefix: str) -> dict:
    """The first button in `blocks` whose action_id starts with `action_prefix` (with its block_id)."""
    for block in blocks:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if el.get("type") == "button" and el.get("action_id", "").startswith(action_prefix):
                return {**el, "block_id": block.get("block_id", "b")}
    raise AssertionError(f"no button {action_prefix!r} in {json.dumps(blocks)[:500]}")


# ---- HTTP mode: signed requests -------------------------------------------------------------------


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
