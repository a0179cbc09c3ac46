"""`opsbot tune` weighs confirmed parses by what happened as well as by votes (a person's correction wins
over both), and `--gate DATASET…` refuses a bank that lowers accuracy on a labelled set, saying by how
much. The store is a real SQLite file; the labelled sets are the project's own."""

import os
from pathlib import Path

import pytest

from opsbot.cli import main
from opsbot.config import load_config
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.rules.loader import load_for
from opsbot.store import Store
from opsbot.tuning.tune import describe, tune

ROOT = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("OPSBOT_EVAL_DIR", ROOT.parent / "shared" / "eval"))  # ../shared/eval, beside the checkout
HELDOUT = ROOT / "tests" / "parsing"
DEV_CONFIG = ROOT / "tests" / "llm" / "dev-config.yaml"


@pytest.fixture
def config(tmp_path):
    cfg = load_config(DEV_CONFIG)
    cfg.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    return cfg


@pytest.fixture
def store(config):
    s = Store.open(config.database_url)
    yield s
    s.close()


def asked(store, text, parsed, votes=(), correction=None, outcome=None):
    """A request as the pipeline records it: the parse, what ran and its check, what people said."""
    req = Request(text=text, user="alice", channel="c", frontend="test")
    store.record_request(req)
    store.record_task(req.id, Task(intent=parsed[0], params=parsed[1], confidence=0.6), 1.0)
    if outcome is not None:
        run = store.start_execution(req.id, parsed[0], parsed[0], "ssh", parsed[1], "alice")
        store.finish_execution(run, "ok", "done")
        store.set_outcome(run, outcome, "active")
    for n, vote in enumerate(votes):
        store.add_feedback(req.id, f"user{n}", vote=vote)
    if correction is not None:
        store.add_feedback(req.id, "bob", correction={"intent": correction[0], "params": correction[1]})
    return req.id


RESTART = ("service.restart", {"service": "redis", "host": "cache-1"})
STATUS = ("service.status", {"service": "redis", "host": "cache-1"})


def test_a_parse_whose_action_fixed_the_problem_is_evidence_without_votes(store, config):
    asked(store, "give redis on cache-1 a kick", RESTART, outcome="fixed")
    asked(store, "bounce redis over on cache-1", RESTART, outcome="not_fixed")
    asked(store, "redis on cache-1 needs a kick", RESTART, outcome="fixed", votes=(-1,))
    result = tune(store, load_for(config), config)
    learned = [(e["text"], e["intent"], e["source"]) for e in store.learned_examples()]
    assert learned == [("give redis on cache-1 a kick", "service.restart", "outcome")]
    assert "(outcome, check: fixed)" in describe(result)


def test_a_correction_wins_over_votes_and_outcome(store, config):
    asked(store, "kick redis on cache-1", RESTART, votes=(1, 1), outcome="fixed", correction=STATUS)
    asked(store, "kick redis on cache-1", RESTART, votes=(1,), outcome="fixed")  # later, but lighter
    tune(store, load_for(config), config)
    assert [(e["intent"], e["source"]) for e in store.learned_examples()] == [("service.status", "correction")]


def test_the_gate_refuses_a_bank_made_worse_on_purpose_and_says_by_how_much(store, config, tmp_path, capsys):
    if not (EVAL / "dev-commands.jsonl").is_file():
        pytest.skip(f"the public dev set is not in {EVAL} (set OPSBOT_EVAL_DIR)")
    # a person "corrects" a plain restart into a status check: exactly what the gate is for
    asked(
        store,
        "restart nginx on web-1",
        ("service.restart", {"service": "nginx", "host": "web-1"}),
        correction=("service.status", {"service": "nginx", "host": "web-1"}),
    )
    cfg = tmp_path / "opsbot.yaml"
    cfg.write_text(DEV_CONFIG.read_text() + f"\ndatabase_url: {config.database_url}\n")
    gate = [str(EVAL / "dev-commands.jsonl"), f"{HELDOUT / 'heldout.jsonl'}={HELDOUT / 'heldout-config.yaml'}"]
    assert main(["tune", "--config", str(cfg), "--gate", *gate]) == 1
    out = capsys.readouterr().out
    assert "LOWER dev-commands.jsonl: accuracy 1.000 -> 0.9" in out
    assert "refused: the new bank lowers accuracy on dev-commands.jsonl" in out and "nothing was written" in out
    assert store.learned_examples() == []


def test_the_gate_lets_a_harmless_bank_through(store, config, tmp_path, capsys):
    asked(store, "give redis on cache-1 a kick", RESTART, outcome="fixed")
    cfg = tmp_path / "opsbot.yaml"
    cfg.write_text(DEV_CONFIG.read_text() + f"\ndatabase_url: {config.database_url}\n")
    gate = [f"{HELDOUT / 'heldout.jsonl'}={HELDOUT / 'heldout-config.yaml'}"]
    assert main(["tune", "--config", str(cfg), "--gate", *gate]) == 0
    out = capsys.readouterr().out
    assert "gate ok heldout.jsonl: accuracy" in out and "promoted 1 example(s)" in out
    assert len(store.learned_examples()) == 1


def test_a_scheduled_tune_waits_for_its_slot_runs_through_the_gate_and_posts_what_changed(store, config):
    from datetime import UTC, datetime, timedelta

    from opsbot.tuning.scheduled import run_forever

    asked(store, "give redis on cache-1 a kick", RESTART, outcome="fixed")
    config.tuning.schedule = "03:00"
    config.tuning.gate = [f"{HELDOUT / 'heldout.jsonl'}={HELDOUT / 'heldout-config.yaml'}"]
    clock = [datetime(2030, 1, 1, 1, 30, tzinfo=UTC)]
    slept, posted = [], []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    run_forever(config, store, posted.append, now=lambda: clock[0], sleep=sleep, rounds=2)
    assert slept[0] == 90 * 60  # until 03:00 UTC
    assert len(posted) == 1  # the second round found nothing new: nothing to say
    assert posted[0].startswith("opsbot tune (scheduled): + 'give redis on cache-1 a kick'")
    assert "gate ok heldout.jsonl: accuracy" in posted[0] and "promoted 1 example(s)" in posted[0]
