"""`opsbot tune`: confirmed parses become learned examples, reviewably (dry run) and reversibly (revert)."""

import subprocess
import sys
from pathlib import Path

import yaml

from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.tuning.tune import describe, plan, revert, tune

HERE = Path(__file__).parent


def feedback(store, text, parsed=None, correction=None, votes=()):
    """A request as the pipeline records it, then what people said about it."""
    req = Request(text=text, user="alice", channel="c", frontend="test")
    store.record_request(req)
    intent, params = parsed or (None, {})
    store.record_task(req.id, Task(intent=intent, params=params, confidence=0.4), 1.0)
    if correction is not None:
        store.add_feedback(req.id, "alice", correction={"intent": correction[0], "params": correction[1]})
    for n, vote in enumerate(votes):
        store.add_feedback(req.id, f"user{n}", vote=vote)
    return req.id


def test_corrections_and_upvoted_parses_are_promoted(store, rules, config):
    feedback(
        store,
        "ram check db-1",
        parsed=("service.status", {"host": "db-1"}),
        correction=("metrics.memory", {"host": "db-1"}),
    )
    feedback(store, "top processes on web-1", parsed=("process.top", {"host": "web-1"}), votes=(1,))
    feedback(store, "cpu on web-2", parsed=("metrics.memory", {"host": "web-2"}), votes=(-1,))
    result = tune(store, rules, config)
    assert result.version == store.learned_version() == 1
    learned = {(e["text"], e["intent"]) for e in store.learned_examples()}
    assert learned == {("ram check db-1", "metrics.memory"), ("top processes on web-1", "process.top")}
    text = describe(result)
    assert "+ 'ram check db-1' -> metrics.memory host=db-1  (correction)" in text
    assert "promoted 2 example(s)" in text and "--revert" in text


def test_examples_that_do_not_fit_the_rules_or_hold_secrets_are_skipped(store, rules, config):
    feedback(store, "run it", correction=("shell.exec", {"command": "uptime"}))
    feedback(store, "restart nginx on web-9", correction=("service.restart", {"service": "nginx", "host": "web-9"}))
    feedback(store, "search logs for password=hunter2hunter2", correction=("logs.search", {"pattern": "x"}))
    feedback(store, "cpu on web-1 please", correction=("metrics.cpu", {"host": "WEB-1", "window": "60m"}))
    result = tune(store, rules, config)
    assert [e["params"] for e in store.learned_examples()] == [{"host": "web-1", "window": "1h"}]  # normalised
    reasons = {ex["text"]: why for ex, why in result.skipped}
    assert "no rule has the intent 'shell.exec'" in reasons["run it"]
    assert "web-9" in reasons["restart nginx on web-9"]
    assert "secret" in reasons["search logs for password=[REDACTED]"]  # the store never held the password


def test_a_dry_run_shows_the_change_and_writes_nothing(store, rules, config):
    feedback(store, "ping cache-1", correction=("targets.status", {"host": "cache-1"}))
    result = tune(store, rules, config, dry_run=True)
    assert [e["text"] for e in result.promoted] == ["ping cache-1"]
    assert "dry run: would promote 1" in describe(result, dry_run=True)
    assert store.learned_version() == 0 and store.learned_examples() == []


def test_a_tune_with_nothing_new_writes_no_version_and_a_recorrection_replaces(store, rules, config):
    feedback(store, "ping cache-1", correction=("targets.status", {"host": "cache-1"}))
    tune(store, rules, config)
    again = tune(store, rules, config)
    assert again.version is None and store.learned_version() == 1 and "nothing new" in describe(again)
    feedback(store, "ping cache-1", correction=("service.status", {"host": "cache-1", "service": "redis"}))
    third = tune(store, rules, config)
    assert [(b["intent"], a["intent"]) for b, a in third.changed] == [("targets.status", "service.status")]
    assert len(store.learned_examples()) == 1 and store.learned_version() == 2


def test_revert_goes_back_one_version(store, rules, config):
    feedback(store, "ping cache-1", correction=("targets.status", {"host": "cache-1"}))
    tune(store, rules, config)
    feedback(store, "ram check db-1", correction=("metrics.memory", {"host": "db-1"}))
    tune(store, rules, config)
    assert len(store.learned_examples()) == 2
    assert revert(store) == 1 and [e["text"] for e in store.learned_examples()] == ["ping cache-1"]
    assert plan(store, rules, config).added[0]["text"] == "ram check db-1"  # a later tune re-proposes it


def test_the_cli_tunes_evaluates_and_reverts(tmp_path, store, config):
    conf = yaml.safe_load((HERE / "dev-config.yaml").read_text())
    conf["database_url"] = config.database_url
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(conf))
    dataset = tmp_path / "second.jsonl"
    dataset.write_text('{"text": "web-1 breathing?", "intent": "targets.status", "params": {"host": "web-1"}}\n')

    def opsbot(*args):
        p = subprocess.run(
            [sys.executable, "-m", "opsbot", *args, "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "OPSBOT_STATE_DIR": str(tmp_path)},
        )
        return p.returncode, p.stdout + p.stderr

    feedback(store, "web-1 breathing?", correction=("targets.status", {"host": "web-1"}))
    code, out = opsbot("eval", str(dataset), "--parser", "offline")
    assert "accuracy 0.000 (0/1" in out and code == 0
    code, out = opsbot("tune", "--dry-run")
    assert code == 0 and "dry run: would promote 1" in out and store.learned_version() == 0
    code, out = opsbot("tune")
    assert code == 0 and "promoted 1 example(s)" in out and store.learned_version() == 1
    code, out = opsbot("eval", str(dataset), "--parser", "offline")
    assert "accuracy 1.000 (1/1" in out
    code, out = opsbot("tune", "--revert")
    assert code == 0 and "version 0" in out and store.learned_version() == 0
    code, out = opsbot("tune", "--revert")
    assert code == 1 and "no learned examples to revert" in out
