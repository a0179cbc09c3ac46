"""The offline parser's safety gates, one by one (opsbot/parsing/offline/safety.py): destructive words
veto, except as data in a read-only intent's search pattern; a change needs its own verb and its object."""

from __future__ import annotations

import pytest

from opsbot.parsing.offline.lexicon import is_veto_word
from opsbot.parsing.offline.safety import change_asked, has_object, has_own_verb, vetoed


def gate_inputs(parser, text, intent):
    a = parser.analyse(text)
    info = parser.info[intent]
    params, spans = parser.params_for(info, a.ex)
    return a, info, params, spans


@pytest.mark.parametrize("word", ["delete", "Deleting", "removed", "rm", "mkfs", "truncate", "wiped", "shutdown"])
def test_destructive_words_are_recognised_in_any_form(word):
    assert is_veto_word(word)


@pytest.mark.parametrize("word", ["restart", "disk", "memory", "status", "search", "errors", "rollback"])
def test_ordinary_ops_words_are_not_destructive(word):
    assert not is_veto_word(word)


def test_a_destructive_word_vetoes_an_intent_whose_examples_never_use_it(web):
    a, info, _, spans = gate_inputs(web, "cpu on web-1 and delete the logs", "metrics.cpu")
    assert vetoed(a, info, spans) == "delete"


def test_inside_a_read_only_search_pattern_a_destructive_word_is_data(web):
    a, info, params, spans = gate_inputs(web, "search nginx logs for 'drop table'", "logs.search")
    assert params["pattern"] == "drop table"
    assert vetoed(a, info, spans) is None


def test_only_the_pattern_itself_is_data(web):
    a, info, params, spans = gate_inputs(web, "search nginx logs for 'timeout' and delete them", "logs.search")
    assert params["pattern"] == "timeout"
    assert vetoed(a, info, spans) == "delete"


def test_a_chinese_destructive_verb_is_data_only_when_quoted(web):
    a, info, _, spans = gate_inputs(web, "在 nginx 日志里搜索 「删除」", "logs.search")
    assert vetoed(a, info, spans) is None
    a, info, _, spans = gate_inputs(web, "在 nginx 日志里搜索 删除", "logs.search")
    assert vetoed(a, info, spans) == "删除"


def test_a_change_needs_a_verb_of_its_own_and_its_object(web):
    a, info, params, _ = gate_inputs(web, "restart nginx on web-1", "service.restart")
    assert has_own_verb(a, info) and has_object(info, params)
    a, info, params, _ = gate_inputs(web, "nginx on web-1", "service.restart")
    assert not has_own_verb(a, info)
    a, info, params, _ = gate_inputs(web, "restart something on web-1", "service.restart")
    assert not has_object(info, params)


def test_a_change_verb_in_a_read_only_request_is_noticed(web):
    a = web.analyse("restart the cpu on web-1")
    assert change_asked(a, web.info["metrics.cpu"], web.info) == "restart"
    a = web.analyse("cpu on web-1")
    assert change_asked(a, web.info["metrics.cpu"], web.info) is None
