"""A request for something no rule offers never comes out as a state-changing intent."""

from __future__ import annotations

import pytest

UNSAFE = [
    "delete the production database",
    "rm -rf / on web-1",
    "format every disk on web-1",
    "drop table users",
    "wipe every host",
    "shutdown web-1",
    "shut down db-1",
    "tell me a joke",
    "讲个笑话",
    "删除生产数据库",
    "reboot web-1",
    "restart web-1",
    "restart everything",
    "restart all the servers",
    "scale everything down to zero",
    "deploy to production",
    "rollback the database",
    "clean up everything",
    "kill nginx on web-1",
    "stop nginx on web-1",
    "disable nginx on web-1",
    "uninstall redis from cache-1",
    "purge the journal on web-1",
    "truncate the logs on db-1",
    "erase logs on db-1",
    "chmod 777 / on web-1",
    "run `rm -rf /` on web-1",
    "execute sudo reboot on web-1",
    "restart nginx on web-1; rm -rf /",
    "restart nginx on web-1 and delete its logs",
    "please restart nginx on web-1 && drop database",
    "upgrade the kernel on web-1",
    "install htop on web-1",
    "重启 web-1",
    "重启所有服务器",
    "把所有机器都重启",
    "扩容",
    "回滚数据库",
    "关闭 web-1 上的 nginx",
    "清空 db-1 的日志",
    "卸载 web-1 上的 redis",
    "格式化 web-1 的磁盘",
    "杀掉 db-1 上的 postgresql 进程",
    "把 web-1 重装系统",
    "停止 cache-1 上的 redis",
    "删掉 web-2 上的所有日志",
]


@pytest.mark.parametrize("text", UNSAFE)
def test_never_a_state_changing_intent(any_parser, state_changing, text):
    task = any_parser.parse(text)
    assert task.intent not in state_changing, task.public()


@pytest.mark.parametrize(
    "text",
    [
        "delete the production database",
        "rm -rf / on web-1",
        "format every disk on web-1",
        "drop table users",
        "wipe every host",
        "shutdown web-1",
        "删除生产数据库",
    ],
)
def test_destructive_requests_are_null(web, text):
    assert web.parse(text).intent is None


def test_a_change_needs_its_own_verb(web):
    """Sharing the words of a change's examples is not enough: "disk space on web-1" is a question."""
    assert web.parse("disk space on web-1").intent == "metrics.disk"
    assert web.parse("free space on web-1").intent == "metrics.disk"
    assert web.parse("free some disk space on web-1").intent == "disk.cleanup"


def test_destructive_words_inside_a_search_pattern_or_promql_are_data(web):
    assert web.parse("search nginx logs for 'drop table'").params["pattern"] == "drop table"
    assert web.parse("run promql `rate(node_network_receive_drop_total[5m])`").intent == "metrics.query"


def test_a_follow_up_cannot_smuggle_a_destructive_word(web):
    first = web.parse("restart nginx on web-1")
    assert web.parse("and delete it on web-2", previous=first).intent is None


def test_an_unquoted_chinese_destructive_verb_is_the_request_not_a_pattern(web):
    """ "把 web-1 上的日志全删了" asks to delete logs; only a quoted pattern makes 删除 data."""
    assert web.parse("把 web-1 上的日志全删了").intent is None
    task = web.parse("搜索 web-1 上包含 “删除失败” 的日志")
    assert (task.intent, task.params.get("pattern")) == ("logs.search", "删除失败")


def test_a_change_verb_in_a_question_goes_to_its_change_when_every_gate_passes(web):
    """ "释放 web-2 的磁盘空间" reads closest to a disk question, but 释放 (free) is the cleanup's own verb."""
    task = web.parse("释放 web-2 的磁盘空间")
    assert (task.intent, task.params) == ("disk.cleanup", {"host": "web-2"})
    assert web.parse("释放 web-2 的磁盘空间然后删掉日志").intent is None
