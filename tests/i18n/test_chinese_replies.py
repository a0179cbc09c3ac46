"""A Chinese request gets a Chinese reply: every intent of the shipped packs asked in Chinese against the real
lab, and the error paths (an unknown host, a missing param, a bare host, a refusal, self-approval, a deny, a
cancel, an over-long message, nothing understood), answer with no English sentence: only names, numbers,
units and the odd technical word are left."""

from __future__ import annotations

import re

import pytest

from opsbot.app import build_app
from opsbot.core.request import Request
from opsbot.executors.bot import example_with_names

ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’-]+[A-Za-z]{2,}){2,}")  # three English words in a row
NOT_PROSE = re.compile(r"`[^`]*`|\S+=\"[^\"]*\"|https?://\S+|/[\w./-]+|\b[\w.-]+\.(?:log|gz|py|yaml)\b")
# A runbook's own words (kb.ask): quoted lines and the quoted section's heading with its link
QUOTED = re.compile(r"^> .*$|^\*[^*\n]+\* \(\S+\)$", re.M)


def english_sentences(reply, names: set[str]) -> list[str]:
    seen = [reply.text] + [b.label for b in reply.buttons]
    for t in reply.tables:
        seen += [t.title or "", *t.columns]
    found = []
    for text in seen:
        text = NOT_PROSE.sub(" ", QUOTED.sub(" ", text))
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, " ")
        found += ENGLISH_RUN.findall(text)
    return found


@pytest.fixture(scope="module")
def app(lab_config, tmp_path_factory):
    config = lab_config.model_copy(deep=True)
    config.database_url = f"sqlite:///{tmp_path_factory.mktemp('zh') / 'opsbot.db'}"
    with build_app(config, "offline") as a:
        yield a


@pytest.fixture(scope="module")
def names(app) -> set[str]:
    inv = app.config.inventory
    return {
        *inv.hosts,
        *inv.groups(),
        *inv.services(),
        *inv.deployments,
        *app.rules.intents(),
        *app.config.access.users,
    }


def ask(app, text, user="alice", thread="zh"):
    return app.pipeline.handle(Request(text=text, user=user, channel="c", thread=thread, frontend="test"))


def intents_asked_in_chinese(rules, config) -> list[tuple[str, str]]:
    return [
        (intent, example_with_names(rules.primary(intent).examples.zh[0], config))
        for intent in rules.intents()
        if rules.primary(intent).examples.zh
    ]


def test_every_intent_answers_a_chinese_request_in_chinese(app, names):
    leaks = {}
    for n, (intent, text) in enumerate(intents_asked_in_chinese(app.rules, app.config)):
        reply = ask(app, text, thread=f"intent-{n}")
        found = english_sentences(reply, names)
        if found:
            leaks[f"{intent}: {text}"] = found
    assert leaks == {}


@pytest.mark.parametrize(
    "text, user",
    [
        ("重启 web-9 上的 nginx", "alice"),  # unknown host
        ("重启 nginx", "alice"),  # missing param: a question
        ("看看 web-1", "alice"),  # a bare host: choices
        ("讲个笑话", "alice"),  # nothing understood
        ("重启 web-1 上的 nginx", "carol"),  # a viewer may not
        ("看看 " + "日志" * 1100, "alice"),  # too long
        ("db-1 上的 nginx 状态", "alice"),  # a service the host does not run
        ("看一下 web-1 最近400天的CPU", "alice"),  # a window longer than allowed
    ],
)
def test_error_paths_answer_in_chinese(app, names, text, user):
    reply = ask(app, text, user=user, thread=f"err-{hash(text)}")
    assert english_sentences(reply, names) == [], reply.text


def test_approvals_denials_and_cancels_answer_in_chinese(app, names):
    asked = ask(app, "重启 web-1 上的 nginx", thread="approve")
    assert asked.kind == "approval" and english_sentences(asked, names) == []
    assert english_sentences(app.pipeline.decide(asked.approval_id, "alice", True), names) == []  # self-approval
    denied = app.pipeline.decide(asked.approval_id, "bob", False)
    assert denied.decided and english_sentences(denied, names) == [], denied.text
    again = ask(app, "重启 web-2 上的 nginx", thread="cancel")
    cancelled = ask(app, "算了", thread="cancel")
    assert again.kind == "approval" and cancelled.text.startswith("已取消")
    approved = app.pipeline.decide(ask(app, "重启 web-2 上的 api", thread="run").approval_id, "bob", True)
    assert english_sentences(approved, names) == [], approved.text
