"""The life cycle the local stand-in servers share: serve in a daemon thread, stop, `with`."""

from __future__ import annotations

import threading
from typing import Any


class ThreadedServer:
    """A subclass's start() builds a server object (anything with serve_forever and shutdown) and hands
    it to `_run_in_thread`; stop() shuts it down and closes its socket."""

    _server: Any = None  # a server: http.server's or websockets', both have serve_forever and shutdown
    _thread: threading.Thread | None = None

    def start(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _run_in_thread(self, server, name: str, **serve_kwargs) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs=serve_kwargs, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            close = getattr(self._server, "server_close", None)  # http.server has it; websockets does not
            if close is not None:
                close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
