"""The follow-up contract: a follow-up changes only what it names (host, service, window, metric) and keeps
the previous intent only when it has no intent of its own. A question or a read-only phrasing never becomes
a change, follow-up or not; a change as a follow-up needs its own change verb."""

from __future__ import annotations

import pytest

FOLLOW_UPS = [
    ("cpu on web-1 last hour", "what about the last 6h", "metrics.cpu", {"host": "web-1", "window": "6h"}),
    ("web-1 的 CPU 使用率", "web-2 呢", "metrics.cpu", {"host": "web-2"}),
    ("cpu on web-1", "换成 cache-1", "metrics.cpu", {"host": "cache-1"}),
    ("cpu on web-1", "web-2", "metrics.cpu", {"host": "web-2"}),
    ("is nginx running on web-1", "and redis on cache-1?", "service.status", {"service": "redis", "host": "cache-1"}),
    ("show me critical alerts", "and warnings?", "alerts.list", {"severity": "warning"}),
    ("cpu on web-1", "what about memory?", "metrics.memory", {"host": "web-1"}),
    ("web-1 的 CPU 使用率", "内存呢", "metrics.memory", {"host": "web-1"}),
    ("web-1 最近3小时的内存", "最近两天的呢", "metrics.memory", {"host": "web-1", "window": "2d"}),
    # a question after a change is answered by the change's read-only counterpart
    ("restart api on web-1", "is it ok on web-2", "service.status", {"service": "api", "host": "web-2"}),
    ("restart api on web-1", "how is it now", "service.status", {"service": "api", "host": "web-1"}),
    ("重启 web-1 上的 nginx", "web-2 上还好吗", "service.status", {"service": "nginx", "host": "web-2"}),
    ("重启 web-1 上的 nginx", "现在怎么样了", "service.status", {"service": "nginx", "host": "web-1"}),
    ("scale llama-chat to 3 replicas", "how is it doing", "llm.status", {"deployment": "llama-chat"}),
    ("clean up disk on db-1", "is it better now?", "metrics.disk", {"host": "db-1"}),
    ("clean up disk on db-1", "how much space is left now?", "metrics.disk", {"host": "db-1"}),
    ("重启 cache-1 上的 redis", "现在正常了吗", "service.status", {"service": "redis", "host": "cache-1"}),
    # a change as a follow-up, with its own verb
    ("restart api on web-1", "restart it on web-2 too", "service.restart", {"service": "api", "host": "web-2"}),
    ("重启 web-1 上的 nginx", "web-2 上也重启一下", "service.restart", {"service": "nginx", "host": "web-2"}),
    ("is nginx running on web-1", "restart it", "service.restart", {"service": "nginx", "host": "web-1"}),
    # a message naming what the previous intent cannot take has an intent of its own
    ("top processes on cache-1", "is redis ok on cache-1", "service.status", {"service": "redis", "host": "cache-1"}),
]


@pytest.mark.parametrize("first, then, intent, params", FOLLOW_UPS)
def test_follow_up(web, first, then, intent, params):
    previous = web.parse(first)
    task = web.parse(then, previous=previous)
    assert (task.intent, task.params) == (intent, params)


@pytest.mark.parametrize(
    "first, then",
    [
        ("restart nginx on web-1", "and on web-2?"),
        ("restart nginx on web-1", "same for web-2"),
        ("重启 web-1 上的 nginx", "web-2 呢"),
        ("clean up disk on db-1", "and cache-1?"),
    ],
)
def test_a_bare_follow_up_to_a_change_asks_whether_to_change_or_to_look(web, state_changing, first, then):
    previous = web.parse(first)
    task = web.parse(then, previous=previous)
    assert task.intent is None
    assert [c.intent in state_changing for c in task.choices] == [True, False]
    assert all(c.params["host"] == task.choices[0].params["host"] for c in task.choices)


def test_a_new_value_for_a_change_is_asked_back_as_a_yes_or_no(web):
    task = web.parse("make it 5", previous=web.parse("scale llama-chat to 3 replicas"))
    assert task.intent is None
    assert [(c.intent, c.params) for c in task.choices] == [("llm.scale", {"deployment": "llama-chat", "replicas": 5})]


def test_no_follow_up_of_a_change_without_its_verb_is_a_change(web, state_changing):
    changes = [
        "restart nginx on web-1",
        "clean up disk on db-1",
        "scale llama-chat to 3 replicas",
        "deploy llama-chat v2.1",
        "roll back llama-chat",
        "重启 web-1 上的 nginx",
    ]
    follow_ups = [
        "and on web-2?",
        "is it ok?",
        "what about web-2",
        "how is it now",
        "web-2",
        "还好吗",
        "web-2 呢",
        "same for cache-1",
        "ok",
        "thanks",
        "make it 4",
        "换成 web-2",
        "also db-1",
        "and the last 6h",
    ]
    for first in changes:
        previous = web.parse(first)
        assert previous.intent in state_changing
        for then in follow_ups:
            assert web.parse(then, previous=previous).intent not in state_changing, (first, then)


def test_a_new_request_is_not_a_follow_up(web):
    previous = web.parse("cpu on web-1")
    task = web.parse("restart nginx on web-2", previous=previous)
    assert (task.intent, task.params) == ("service.restart", {"service": "nginx", "host": "web-2"})
    assert web.parse("tell me a joke", previous=previous).intent is None
    assert web.parse("thanks", previous=web.parse("restart nginx on web-1")).intent is None


def test_without_a_previous_task_a_fragment_is_null(web):
    assert web.parse("and on web-2?").intent is None
