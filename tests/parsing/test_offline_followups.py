"""Follow-ups reuse the previous intent, with the previous params overridden by the new values."""

from __future__ import annotations

import pytest

FOLLOW_UPS = [
    ("restart nginx on web-1", "and on web-2?", "service.restart", {"service": "nginx", "host": "web-2"}),
    ("restart nginx on web-1", "same for db-1", "service.restart", {"service": "nginx", "host": "db-1"}),
    ("cpu on web-1 last hour", "what about the last 6h", "metrics.cpu", {"host": "web-1", "window": "6h"}),
    ("web-1 的 CPU 使用率", "web-2 呢", "metrics.cpu", {"host": "web-2"}),
    ("cpu on web-1", "换成 cache-1", "metrics.cpu", {"host": "cache-1"}),
    ("cpu on web-1", "web-2", "metrics.cpu", {"host": "web-2"}),
    ("is nginx running on web-1", "and redis on cache-1?", "service.status", {"service": "redis", "host": "cache-1"}),
    ("scale llama-chat to 3 replicas", "make it 5", "llm.scale", {"deployment": "llama-chat", "replicas": 5}),
    ("show me critical alerts", "and warnings?", "alerts.list", {"severity": "warning"}),
    ("cpu on web-1", "what about memory?", "metrics.memory", {"host": "web-1"}),
    ("web-1 的 CPU 使用率", "内存呢", "metrics.memory", {"host": "web-1"}),
]


@pytest.mark.parametrize("first, then, intent, params", FOLLOW_UPS)
def test_follow_up(web, first, then, intent, params):
    previous = web.parse(first)
    task = web.parse(then, previous=previous)
    assert (task.intent, task.params) == (intent, params)


def test_a_new_request_is_not_a_follow_up(web):
    previous = web.parse("cpu on web-1")
    task = web.parse("restart nginx on web-2", previous=previous)
    assert (task.intent, task.params) == ("service.restart", {"service": "nginx", "host": "web-2"})
    assert web.parse("tell me a joke", previous=previous).intent is None
    assert web.parse("thanks", previous=web.parse("restart nginx on web-1")).intent is None


def test_without_a_previous_task_a_fragment_is_null(web):
    assert web.parse("and on web-2?").intent is None
