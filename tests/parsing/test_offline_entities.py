"""Values found in a message: durations, numbers, quotes, names with typos, groups, enums, versions."""

from __future__ import annotations

import pytest

from opsbot.parsing.chinese import numeral_value
from opsbot.parsing.offline.entities import KnownNames, extract


@pytest.fixture(scope="module")
def lex(rules, small_lab_config):
    return KnownNames(small_lab_config, rules)


def durations(lex, text):
    return [(m.value("duration"), bool(m.meta.get("future"))) for m in extract(text, lex).of_kind("duration")]


@pytest.mark.parametrize(
    "text, want",
    [
        ("cpu in the last 30 minutes", "30m"),
        ("past 2h", "2h"),
        ("over the last day", "1d"),
        ("the last hour", "1h"),
        ("half an hour", "30m"),
        ("an hour and a half", "90m"),
        ("last 90 seconds", "90s"),
        ("past 2 weeks", "14d"),
        ("1h30m", "90m"),
        ("2 hours 15 minutes", "135m"),
        ("over the past 3 days", "3d"),
        ("last 45 mins", "45m"),
        ("a couple of hours", "2h"),
        ("24 hours", "1d"),
        ("过去6小时", "6h"),
        ("最近两小时", "2h"),
        ("最近一天", "1d"),
        ("最近3小时", "3h"),
        ("半小时", "30m"),
        ("一个半小时", "90m"),
        ("最近30分钟", "30m"),
        ("过去一周", "7d"),
        ("最近十二个小时", "12h"),
    ],
)
def test_durations_are_prometheus_durations(lex, text, want):
    assert durations(lex, text) == [(want, False)]


@pytest.mark.parametrize(
    "text, want",
    [
        ("forecast disk for the next 6 hours", "6h"),
        ("over the next week", "7d"),
        ("in the coming 2 days", "2d"),
        ("未来12小时", "12h"),
        ("接下来三天", "3d"),
    ],
)
def test_future_durations_are_marked_for_a_horizon(lex, text, want):
    assert durations(lex, text) == [(want, True)]


@pytest.mark.parametrize("text, n", [("三", 3), ("十二", 12), ("两", 2), ("二十五", 25), ("一百零五", 105), ("十", 10)])
def test_chinese_numerals(text, n):
    assert numeral_value(text) == n


def test_words_are_not_numbers():
    assert numeral_value("一下x") is None


@pytest.mark.parametrize(
    "text, replicas",
    [
        ("scale llama-chat to 3 replicas", 3),
        ("scale llama-chat to twelve replicas", 12),
        ("把 llama-chat 扩容到三个副本", 3),
        ("将 reranker 副本数调整为十二", 12),
        ("把 reranker 缩容到两个实例", 2),
        ("scale reranker from 2 to 4 replicas", 4),
    ],
)
def test_replicas(web, text, replicas):
    task = web.parse(text)
    assert task.intent == "llm.scale"
    assert task.params["replicas"] == replicas


@pytest.mark.parametrize(
    "text",
    [
        "search nginx logs for 'connection refused'",
        'search nginx logs for "connection refused"',
        "search nginx logs for `connection refused`",
        "search nginx logs for “connection refused”",
        "search nginx logs for 「connection refused」",
        "在 nginx 日志里搜索 ‘connection refused’",
    ],
)
def test_quoted_text_is_the_pattern_without_its_quotes(web, text):
    task = web.parse(text)
    assert (task.intent, task.params["pattern"]) == ("logs.search", "connection refused")


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("grep nginx logs for 502", "502"),
        ("在 nginx 日志里搜索 502", "502"),
        ("search for timeout in the api logs on web-2", "timeout"),
        ("nginx 日志里有没有 502", "502"),
    ],
)
def test_unquoted_pattern_when_clear(web, text, pattern):
    task = web.parse(text)
    assert (task.intent, task.params.get("pattern")) == ("logs.search", pattern)


@pytest.mark.parametrize(
    "text, want",
    [
        ("restart ngnix on web-1", {"service": "nginx", "host": "web-1"}),
        ("restart nginx on web1", {"service": "nginx", "host": "web-1"}),
        ("restart NGINX on Web-1", {"service": "nginx", "host": "web-1"}),
        ("restart postgres on db-1", {"service": "postgresql", "host": "db-1"}),
        ("restrat redis on cache1", {"service": "redis", "host": "cache-1"}),
    ],
)
def test_names_tolerate_typos_case_and_missing_hyphens(web, text, want):
    task = web.parse(text)
    assert task.intent == "service.restart"
    assert task.params == want


def test_an_unknown_host_is_kept_as_typed_never_corrected_to_another(web):
    """web-3 is not web-1 or web-2: the rule engine will say it does not know web-3."""
    assert web.parse("cpu on web-3").params == {"host": "web-3"}
    assert web.parse("top processes on db-7").params == {"host": "db-7"}


@pytest.mark.parametrize(
    "text", ["cpu on the web servers", "cpu on all web hosts", "所有 web 服务器的 CPU", "cpu of the web group"]
)
def test_groups(web, text):
    task = web.parse(text)
    assert (task.intent, task.params.get("host")) == ("metrics.cpu", "web")


def test_names_come_from_the_config(web, other):
    assert other.parse("memory on PGMAIN").params == {"host": "pg-main"}
    assert web.parse("memory on PGMAIN").params == {}
    assert other.parse("restart haproxy on api-3").params == {"service": "haproxy", "host": "api-3"}
    assert web.parse("restart haproxy on api-3").intent is None  # no such service in this inventory


@pytest.mark.parametrize(
    "text, severity",
    [
        ("show me critical alerts", "critical"),
        ("列出严重告警", "critical"),
        ("list warning alerts", "warning"),
        ("有哪些警告告警", "warning"),
        ("any crit alerts", "critical"),
    ],
)
def test_severity_through_the_rules_aliases(web, text, severity):
    task = web.parse(text)
    assert (task.intent, task.params.get("severity")) == ("alerts.list", severity)


@pytest.mark.parametrize(
    "text, version",
    [
        ("deploy llama-chat v2", "v2"),
        ("deploy llama-chat v1.4.0", "v1.4.0"),
        ("upgrade reranker to 2024-05-01", "2024-05-01"),
        ("部署 reranker v3.1", "v3.1"),
        ("deploy version 7 of llama-chat", "7"),
    ],
)
def test_versions(web, text, version):
    task = web.parse(text)
    assert (task.intent, task.params.get("version")) == ("llm.deploy", version)


@pytest.mark.parametrize(
    "text, metric",
    [
        ("when will db-1 run out of disk", "disk"),
        ("预测 db-1 的磁盘什么时候写满", "disk"),
        ("forecast memory on cache-1", "memory"),
        ("predict traffic for llama-chat", "requests"),
        ("预测 web-1 未来一天的内存", "memory"),
    ],
)
def test_forecast_metric(web, text, metric):
    task = web.parse(text)
    assert (task.intent, task.params.get("metric")) == ("metrics.forecast", metric)


def test_horizon_for_a_forecast(web):
    task = web.parse("forecast memory on cache-1 for the next 6 hours")
    assert task.params == {"metric": "memory", "host": "cache-1", "horizon": "6h"}


def test_promql_in_backticks_and_unquoted(web):
    assert web.parse("run promql `rate(node_network_receive_bytes_total[5m])` over the last 2h").params == {
        "promql": "rate(node_network_receive_bytes_total[5m])",
        "window": "2h",
    }
    assert web.parse("run promql sum by (job) (rate(http_requests_total[5m]))").params == {
        "promql": "sum by (job) (rate(http_requests_total[5m]))"
    }


@pytest.mark.parametrize("text", ["find 404s in nginx logs", "count the 502s on web-1", "any 500s?"])
def test_status_codes_in_the_plural_are_not_seconds(lex, text):
    assert durations(lex, text) == []


def test_seconds_after_a_time_word_still_count(lex):
    assert durations(lex, "cpu over the last 300s") == [("5m", False)]
