"""A bounded pool for the slow part of a request, so Slack's 3-second ack never waits for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class WorkQueue:
    """`submit` never blocks: it returns False when `max_pending` jobs are already waiting or running,
    and the caller tells the person to try again instead of queueing without bound."""

    def __init__(self, workers: int, max_pending: int, name: str = "opsbot-slack"):
        if workers < 1 or max_pending < workers:
            raise ValueError("a work queue needs workers >= 1 and max_pending >= workers")
        self.workers = workers
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False
        self.rejected = 0  # submits refused because the queue was full (opsbot_work_queue_rejections)

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def submit(self, fn: Callable, *args, **kwargs) -> bool:
        with self._lock:
            if self._closed or self._pending >= self.max_pending:
                self.rejected += not self._closed
                return False
            self._pending += 1

        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:  # the job reports to the user itself; this is the last resort
                log.exception("background job %s failed", getattr(fn, "__name__", fn))
            finally:
                self._done()

        try:
            self._pool.submit(run)
        except RuntimeError:  # shut down meanwhile
            self._done()
            return False
        return True

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            if not self._pending:
                self._idle.notify_all()

    def stop_accepting(self) -> None:
        """Refuse new jobs from now on (a stopping bot); those already queued still run."""
        with self._lock:
            self._closed = True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is waiting or running (every job submitted so far has finished); False
        if that did not happen within `timeout` seconds."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
