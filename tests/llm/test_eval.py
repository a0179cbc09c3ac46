"""`opsbot eval`: the shared scorer's matching rules, the report, and two prompt versions side by side."""

import json
import re
from pathlib import Path

import pytest

from opsbot.parsing.prompt import default_template
from opsbot.testing.fake_openai import answer
from opsbot.tuning.evaluate import EvalResult, Outcome, evaluate, load_cases, report, run, same, score

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    "key, want, got, ok",
    [
        ("window", "1h", "60m", True),
        ("window", "90m", "1h30m", True),
        ("window", "1h", "2h", False),
        ("host", "web-1", " 'WEB-1' ", True),
        ("pattern", "could not connect", "`could not connect`", True),
        ("replicas", 3, "3", True),
        ("replicas", 3, 4, False),
        ("replicas", 3, "three", False),
        ("promql", "rate(x[5m])", "rate( x[5m] )", True),
        ("host", "web-1", None, False),
    ],
)
def test_params_match_as_the_shared_scorer_matches_them(key, want, got, ok):
    assert same(key, want, got) is ok


def test_a_case_passes_on_intent_and_expected_params_and_forbidden_intents_are_unsafe():
    case = {"text": "t", "intent": "metrics.cpu", "params": {"host": "web-1"}}
    assert score(case, {"intent": "metrics.cpu", "params": {"host": "web-1", "window": "1h"}}) == (True, False)
    assert score(case, {"intent": "metrics.memory", "params": {"host": "web-1"}}) == (False, False)
    bad = {"text": "t", "intent": None, "params": {}, "forbid": ["disk.cleanup"]}
    assert score(bad, {"intent": "disk.cleanup", "params": {}}) == (False, True)


def test_the_report_has_accuracy_per_intent_and_language_confusions_latency_and_tokens():
    def outcome(text, want, got, good, ms, tokens=0):
        return Outcome(
            {"text": text, "intent": want, "params": {"host": "web-1"}},
            {"intent": got, "params": {"host": "web-2"} if want == got else {}},
            good,
            False,
            ms,
            {"prompt_tokens": tokens, "llm_calls": 1 if tokens else 0},
        )

    r = EvalResult(
        "auto",
        [
            outcome("cpu on web-1", "metrics.cpu", "metrics.cpu", True, 1.0),
            outcome("web-1 的内存", "metrics.memory", "metrics.disk", False, 3.0, 500),
            outcome("memory web-1", "metrics.memory", "metrics.memory", False, 2.0, 400),
        ],
    )
    text = report(r)
    assert text.splitlines()[0] == "auto: accuracy 0.333 (1/3; en 1/2, zh 0/1); unsafe 0"
    assert re.search(r"^  metrics.memory +0/2  0.000$", text, re.M)
    assert "  metrics.memory -> metrics.disk: 1" in text
    assert "  metrics.memory -> metrics.memory (params: host): 1" in text
    assert "latency p50 2.0 ms" in text and "LLM calls 2 (0.67 per request); tokens 900 in" in text
    assert "MISS 'web-1 的内存'" in text


def test_the_dev_set_scores_with_the_offline_parser(config, rules):
    from opsbot.parsing.factory import build_parser

    cases = load_cases(HERE / "dev-commands.jsonl")
    result = evaluate(build_parser(config, "offline", rules=rules), cases, "offline")
    assert result.n == 60 and result.unsafe == 0 and result.accuracy >= 0.9
    assert set(result.per_language()) == {"en", "zh"}


def test_two_prompts_are_compared_side_by_side_on_one_dataset(config, server, tmp_path, store):
    better = tmp_path / "parse-v2.j2"
    better.write_text(default_template().read_text().replace("Rules:", "Rules (v2):"))
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(
        "\n".join(
            json.dumps(c)
            for c in [
                {"text": "erm, which tricks do you know", "intent": "help", "params": {}},
                {"text": "who's screaming at us", "intent": "alerts.list", "params": {}},
                {
                    "text": "restart nginx on web-1",
                    "intent": "service.restart",
                    "params": {"service": "nginx", "host": "web-1"},
                },
            ]
        )
        + "\n"
    )

    def responder(body):  # the v2 prompt gets the right answers, the default one only the first
        text = json.loads(body["messages"][1]["content"].splitlines()[-1])["message"]
        v2 = "Rules (v2):" in body["messages"][0]["content"]
        if "tricks" in text:
            return answer("help")
        if "screaming" in text:
            return answer("alerts.list" if v2 else "help")
        return answer("service.restart", {"service": "nginx", "host": "web-1"})

    server.responder = responder
    # every intent on offer, so that the two prompts alone make the difference (not the shortlist)
    config = config.model_copy(update={"llm": config.llm.model_copy(update={"top_k_rules": 50})})
    lines = []
    code = run(str(dataset), config, "llm", [str(default_template()), str(better)], store=store, out=lines.append)
    text = "\n".join(lines)
    assert code == 0 and server.calls == 6
    head = next(line for line in text.splitlines() if "parse.j2@" in line and "parse-v2.j2@" in line)
    accuracy = next(line for line in text.splitlines() if line.startswith("accuracy "))
    assert head.index("parse.j2@") < head.index("parse-v2.j2@")
    assert "0.667 (2/3)" in accuracy and "1.000 (3/3)" in accuracy
    assert "who's screaming at us" in text.split("cases where they differ:")[1]
    assert "prompt tokens / call" in text


def test_eval_exits_1_below_min_accuracy_or_on_an_unsafe_case(config, tmp_path, store):
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(
        json.dumps({"text": "restart nginx on web-1", "intent": None, "params": {}, "forbid": ["service.restart"]})
        + "\n"
    )
    lines = []
    assert run(str(dataset), config, "offline", store=store, out=lines.append) == 1
    assert "unsafe 1" in lines[0]
