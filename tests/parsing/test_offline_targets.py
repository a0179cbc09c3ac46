"""Several hosts in one request, and a deployment standing for the host it runs on."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text, intent, hosts",
    [
        ("cpu on web-1 and web-2", "metrics.cpu", "web-1,web-2"),
        ("memory on web-1,web-2 last 3h", "metrics.memory", "web-1,web-2"),
        ("web-1 和 web-2 的磁盘", "metrics.disk", "web-1,web-2"),
        ("web-1、web-2、db-1 的 CPU", "metrics.cpu", "web-1,web-2,db-1"),
        ("restart nginx on web-1 and web-2", "service.restart", "web-1,web-2"),
        ("重启 web-1 和 web-2 上的 nginx", "service.restart", "web-1,web-2"),
        ("top processes on web-1 & cache-1", "process.top", "web-1,cache-1"),
        ("errors on web-1 and web-2 in the last hour", "logs.errors", "web-1,web-2"),
        ("is nginx ok on web-1 and web-2?", "service.status", "web-1,web-2"),
        ("disk usage db-1 web-2", "metrics.disk", "db-1,web-2"),
        ("top processes on llama-chat and db-1", "process.top", "gpu-1,db-1"),
    ],
)
def test_several_hosts_are_one_comma_joined_param(web, text, intent, hosts):
    task = web.parse(text)
    assert (task.intent, task.params["host"]) == (intent, hosts)


def test_one_host_stays_a_plain_name(web):
    assert web.parse("cpu on web-1").params["host"] == "web-1"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("cpu on llama-chat", "metrics.cpu"),
        ("top processes on reranker", "process.top"),
        ("reranker 的内存", "metrics.memory"),
        ("disk on llama-chat", "metrics.disk"),
    ],
)
def test_a_deployment_stands_for_its_host(web, text, intent):
    task = web.parse(text)
    assert (task.intent, task.params.get("host")) == (intent, "gpu-1")


def test_a_deployment_keeps_its_name_where_a_deployment_is_taken(web):
    assert web.parse("how is llama-chat doing").params == {"deployment": "llama-chat"}
    assert web.parse("llama-chat 现在状态怎么样").params == {"deployment": "llama-chat"}


@pytest.mark.parametrize(
    "text, params",
    [
        ("tail the nginx log on web-1", {"service": "nginx", "host": "web-1"}),
        ("last 50 lines of the api log on web-2", {"service": "api", "host": "web-2", "lines": 50}),
        ("看一下 db-1 上 postgresql 日志的最后 100 行", {"service": "postgresql", "host": "db-1", "lines": 100}),
        ("web-1 上 nginx 的最新日志", {"service": "nginx", "host": "web-1"}),
    ],
)
def test_the_last_lines_of_a_log(web, text, params):
    task = web.parse(text)
    assert (task.intent, task.params) == ("logs.tail", params)


@pytest.mark.parametrize(
    "text, intent, window",
    [
        ("最近3小时 web-1 的内存", "metrics.memory", "3h"),
        ("过去6小时 cache-1 的 CPU", "metrics.cpu", "6h"),
        ("过去两天 db-1 的磁盘使用", "metrics.disk", "2d"),
        ("近12小时 web-2 内存占用", "metrics.memory", "12h"),
    ],
)
def test_a_chinese_time_phrase_before_the_metric(web, text, intent, window):
    task = web.parse(text)
    assert (task.intent, task.params.get("window")) == (intent, window)


@pytest.mark.parametrize(
    "text, intent, params",
    [
        ("llama-chat 部署正常吗", "llm.status", {"deployment": "llama-chat"}),
        ("reranker 跑得怎么样", "llm.status", {"deployment": "reranker"}),
        ("llama-chat 还活着吗", "llm.status", {"deployment": "llama-chat"}),
        ("can prometheus reach web-2", "targets.status", {"host": "web-2"}),
        ("prometheus 能抓到 db-1 吗", "targets.status", {"host": "db-1"}),
    ],
)
def test_deployment_state_and_reachability_questions(web, text, intent, params):
    task = web.parse(text)
    assert (task.intent, task.params) == (intent, params)
