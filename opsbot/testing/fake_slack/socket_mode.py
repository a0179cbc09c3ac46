"""`FakeSocketMode`: a WebSocket server speaking the Socket Mode envelope protocol (hello; events_api,
slash_commands and interactive envelopes with an envelope_id); it records acks by envelope id. Needs the
`websockets` package (the `testing` extra)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opsbot.testing.fake_slack.workspace import APP_ID
from opsbot.testing.threaded import ThreadedServer

if TYPE_CHECKING:
    from websockets.sync.server import ServerConnection


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
        self._conn: ServerConnection | None = None
        self.connections = 0
        self._server = None

    def start(self) -> FakeSocketMode:
        try:
            from websockets.sync.server import serve
        except ImportError as e:  # pragma: no cover - websockets is a dependency
            raise RuntimeError("FakeSocketMode needs the `websockets` package (pip install websockets)") from e
        self._run_in_thread(serve(self._handle, self.host, 0), "fake-socket-mode")
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Socket Mode server is not started")
        port: int = self._server.socket.getsockname()[1]
        return port

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
        if conn is None:
            raise AssertionError("the Socket Mode client went away")
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
