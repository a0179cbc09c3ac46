"""A TCP port that accepts connections and never answers: an executor talking to it (SSH waiting for the
banner, HTTP waiting for a response) stays busy until its own timeout. Loopback only."""

from __future__ import annotations

import socket
import threading


class Tarpit:
    """Accepts TCP connections on 127.0.0.1 and never says a word (until stopped)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tarpit", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        for conn in self.held:
            conn.close()

    def __enter__(self) -> Tarpit:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
