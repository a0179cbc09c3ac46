"""The Slack front end's bounded work queue: it refuses rather than queueing without bound, and says
when everything handed to it has finished."""

from __future__ import annotations

import threading

import pytest

from opsbot.frontends.slack.workqueue import WorkQueue


@pytest.fixture
def queue():
    q = WorkQueue(workers=1, max_pending=2, name="spec")
    yield q
    q.shutdown(wait=True)


def test_a_full_queue_refuses_instead_of_waiting(queue):
    release = threading.Event()
    assert queue.submit(release.wait) and queue.submit(release.wait)
    assert not queue.submit(release.wait)
    assert queue.pending == 2
    release.set()
    assert queue.wait_idle(timeout=60)
    assert queue.submit(lambda: None)


def test_wait_idle_returns_once_every_job_has_finished(queue):
    release, done = threading.Event(), []
    queue.submit(lambda: (release.wait(), done.append(1)))
    queue.submit(lambda: done.append(2))
    assert not queue.wait_idle(timeout=0.05), "a job is still running"
    release.set()
    assert queue.wait_idle(timeout=60)
    assert done == [1, 2] and queue.pending == 0


def test_a_failing_job_still_counts_as_finished(queue):
    queue.submit(lambda: 1 / 0)
    assert queue.wait_idle(timeout=60)
    assert queue.pending == 0


def test_an_idle_queue_is_idle_at_once(queue):
    assert queue.wait_idle(timeout=0)


def test_a_shut_down_queue_takes_nothing(queue):
    queue.shutdown(wait=True)
    assert not queue.submit(lambda: None)
    assert queue.wait_idle(timeout=0)
