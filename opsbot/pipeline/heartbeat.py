"""A running execution says it is alive every few seconds, so that a process starting later can tell
an execution still in progress elsewhere from one whose process died (store.interrupt_orphaned_executions)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def heartbeat(beat: Callable[[], None], every: float) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                beat()
            except Exception as e:  # a missed beat is not worth failing the execution for
                log.warning("execution heartbeat failed: %s", e)

    thread = threading.Thread(target=loop, name="opsbot-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
