"""Ask instead of guess: a message naming only a host, service or deployment gets choices; a message whose
two readings differ in changing state asks which; a question never becomes a change."""

from __future__ import annotations

import pytest

from opsbot.parsing.offline import phrasing


@pytest.mark.parametrize(
    "text", ["check web-1", "the site feels slow, web-1?", "看看 db-1", "web-1?", "check redis", "cache-1 有点慢"]
)
def test_a_bare_name_gets_what_can_be_shown_for_it(web, state_changing, text):
    task = web.parse(text)
    assert task.intent is None
    assert task.choices and not {c.intent for c in task.choices} & state_changing
    named = {v for c in task.choices for v in c.params.values()}
    assert len(named) == 1


def test_a_host_gets_status_cpu_memory_disk_errors_and_top_processes_first(web):
    intents = [c.intent for c in web.parse("check web-1").choices]
    assert intents[:4] == ["targets.status", "metrics.cpu", "metrics.memory", "metrics.disk"]
    assert {"logs.errors", "process.top"} <= set(intents)


def test_a_question_about_a_service_is_its_status(web):
    for text in ("redis 怎么样", "is redis ok?", "how is nginx on web-1"):
        assert web.parse(text).intent == "service.status"


def test_a_service_gets_its_status_and_its_logs(web):
    intents = [c.intent for c in web.parse("check redis").choices]
    assert intents[0] == "service.status" and "logs.errors" in intents
    assert "metrics.cpu" not in intents


@pytest.mark.parametrize("text", ["free disk space on db-1", "free space on web-2 disk"])
def test_a_reading_that_looks_and_one_that_changes_are_asked_about(web, text):
    task = web.parse(text)
    assert task.intent is None
    assert {c.intent for c in task.choices} == {"metrics.disk", "disk.cleanup"}


@pytest.mark.parametrize(
    "text, intent",
    [
        ("free up some disk space on db-1", "disk.cleanup"),  # a verb phrase: the change
        ("clean up disk on db-1", "disk.cleanup"),
        ("how much free disk space is on db-1", "metrics.disk"),  # a question: never the change
        ("is nginx ok on web-1", "service.status"),
        ("web-1 上的 nginx 还好吗", "service.status"),
        ("redis-eu 挂了吗".replace("redis-eu", "cache-1"), "targets.status"),
    ],
)
def test_clear_readings_are_not_asked_about(web, text, intent):
    assert web.parse(text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "is nginx ok after the restart on web-1?",
        "did the restart of nginx on web-1 work",
        "is web-1 cleaned up yet?",
        "how is the llama-chat scale going",
        "was llama-chat rolled back?",
        "重启后 web-1 上的 nginx 还好吗",
        "db-1 的磁盘清理了吗",
        "llama-chat 扩容了吗",
    ],
)
def test_a_question_never_becomes_a_change(web, state_changing, text):
    assert phrasing.read_only(text)
    assert web.parse(text).intent not in state_changing


@pytest.mark.parametrize(
    "text",
    [
        "can you restart nginx on web-1?",
        "could you restart nginx on web-1",
        "能帮我重启一下 web-1 上的 nginx 吗",
        "重启 web-1 上的 nginx 好吗",
    ],
)
def test_a_polite_request_is_not_a_question(web, text):
    assert not phrasing.read_only(text)
    assert web.parse(text).intent == "service.restart"


@pytest.mark.parametrize(
    "text, cancels",
    [
        ("never mind", True),
        ("cancel", True),
        ("nah, cancel that", True),
        ("forget it", True),
        ("算了", True),
        ("不用了", True),
        ("取消", True),
        ("那就算了吧", True),
        ("cancel the silence on web-1", False),
        ("never mind the cpu, show memory on web-1", False),
        ("web-1", False),
    ],
)
def test_cancel_words_are_the_whole_message(text, cancels):
    assert phrasing.cancels(text) is cancels


def test_a_cancel_word_is_never_read_as_a_name(web):
    for text in ("never mind", "算了", "不用了", "cancel"):
        task = web.parse(text)
        assert task.intent is None and not task.params and not task.choices
