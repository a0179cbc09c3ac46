"""`FakeSlackWebAPI`: an HTTP server for the Web API methods opsbot uses (auth.test, chat.postMessage,
chat.update, chat.postEphemeral, views.open, the files_upload_v2 sequence, apps.connections.open and
response_url posts). It records every call and can be told to answer the next call of a method with
HTTP 429 + Retry-After, or with an API error."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from opsbot.testing.fake_slack.workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, new_id, new_ts
from opsbot.testing.threaded import ThreadedServer

if TYPE_CHECKING:
    from opsbot.testing.fake_slack.socket_mode import FakeSocketMode


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

    def __init__(self, host: str = "127.0.0.1", socket_mode: FakeSocketMode | None = None):
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
    def start(self) -> FakeSlackWebAPI:
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
        elif (method == "apps.connections.open" and not token.startswith("xapp-")) or (
            method != "apps.connections.open" and not token.startswith(("xoxb-", "xoxp-"))
        ):
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
        key = (str(p.get("channel")), str(p.get("ts")))
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
            gone = self.messages.pop((str(p.get("channel")), str(p.get("ts"))), None)
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
            with contextlib.suppress(ValueError):
                data[key] = json.loads(data[key])
    return data
