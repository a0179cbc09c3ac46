"""The command line as a user runs it: real subprocesses of the installed `opsbot` script."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each spec starts the opsbot script (about a second apiece)

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval"


def opsbot(*args, input=None, env_extra=None, cwd=None, check=False):
    import os

    env = {**os.environ, **(env_extra or {})}
    p = subprocess.run(
        [sys.executable, "-m", "opsbot", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    if check and p.returncode != 0:
        raise AssertionError(p.stderr)
    return p


@pytest.fixture
def config(tmp_path):
    p = tmp_path / "opsbot.yaml"
    p.write_text(f"""
inventory:
  hosts:
    web-1: {{address: 127.0.0.1, port: 9, groups: [web], services: [nginx, api]}}
    db-1: {{address: 127.0.0.1, port: 9, groups: [db], services: [postgresql]}}
access:
  users: {{alice: [operator], bob: [operator, approver]}}
database_url: sqlite:///{tmp_path / "opsbot.db"}
ssh: {{connect_timeout: 2}}
""")
    return p


def test_parse_one_text_prints_one_task(config):
    out = opsbot("parse", "restart nginx on web-1", "--json", "--config", str(config), check=True).stdout
    task = json.loads(out)
    assert task["intent"] == "service.restart" and task["params"] == {"service": "nginx", "host": "web-1"}
    assert task["parser"] == "offline"


def test_parse_reads_one_utterance_per_line_and_answers_in_order(config):
    out = opsbot(
        "parse", "--json", "--config", str(config), input="help\ncpu on db-1 last 3h\n讲个笑话\n", check=True
    ).stdout.splitlines()
    assert [json.loads(line)["intent"] for line in out] == ["help", "metrics.cpu", None]


def test_a_broken_config_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("inventory:\n  hosts:\n    web-1: {address: 1.2.3.4, groups: web}\n")
    p = opsbot("parse", "help", "--config", str(bad))
    assert p.returncode == 2 and f"{bad}:3: inventory.hosts.web-1.groups" in p.stderr


def test_rules_test_runs_every_example_and_executes_nothing(config):
    p = opsbot("rules", "test", "--config", str(config))
    assert "examples parse to their rule and render" in p.stdout and "nothing was executed" in p.stdout
    assert p.returncode == 0, p.stdout


def test_chat_console_answers_and_takes_an_approval_from_another_user(config):
    transcript = "help\nrestart nginx on web-1\nbob\ny\n/quit\n"
    p = opsbot("chat", "--config", str(config), "--user", "alice", input=transcript)
    out = p.stdout
    assert p.returncode == 0, p.stderr
    assert "service.restart" in out  # help table
    assert "must approve it" in out  # the approval prompt
    assert "Approved by bob" in out  # bob answered; it ran (and failed on port 9)


def test_audit_verify_detects_an_edited_row(config, tmp_path):
    opsbot("chat", "--config", str(config), "--user", "alice", input="restart nginx on web-1\nbob\ny\n", check=True)
    assert opsbot("audit", "verify", "--config", str(config)).returncode == 0
    db = sqlite3.connect(tmp_path / "opsbot.db")
    table = next(
        t
        for (t,) in db.execute("select name from sqlite_master where type='table'")
        if "audit" in t and "head" not in t
    )
    db.execute(f"update {table} set actor = 'mallory' where rowid = (select min(rowid) from {table})")
    db.commit()
    p = opsbot("audit", "verify", "--config", str(config))
    assert p.returncode == 1 and "edited" in p.stdout


def test_feedback_export_is_json_lines(config):
    opsbot("chat", "--config", str(config), "--user", "alice", input="help\n/good\n", check=True)
    rows = [
        json.loads(line)
        for line in opsbot("feedback", "export", "--config", str(config), check=True).stdout.splitlines()
    ]
    assert rows[0]["text"] == "help" and rows[0]["task"]["intent"] == "help" and rows[0]["votes"]["up"] == 1


@pytest.mark.skipif(not (EVAL / "score_parse.py").exists(), reason="shared/eval is not next to the checkout")
def test_the_public_dev_set_scores_at_least_095_with_nothing_unsafe():
    p = subprocess.run(
        [
            sys.executable,
            str(EVAL / "score_parse.py"),
            str(EVAL / "dev-commands.jsonl"),
            str(EVAL / "dev-config.yaml"),
            "--cmd",
            f"{sys.executable} -m opsbot",
            "--min",
            "0.95",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("args", [["audit", "verify"], ["feedback", "export"], ["chat"]])
def test_an_unreachable_database_is_one_sentence_not_a_traceback(args):
    p = opsbot(*args, input="help\n", env_extra={"OPSBOT_DATABASE_URL": "postgresql+psycopg://127.0.0.1:1/none"})
    assert p.returncode == 2 and "cannot use the database" in p.stderr and "Traceback" not in p.stderr


def test_a_missing_dataset_is_one_sentence(tmp_path):
    p = opsbot("eval", str(tmp_path / "nope.jsonl"), env_extra={"OPSBOT_STATE_DIR": str(tmp_path)})
    assert p.returncode == 2 and "No such file" in p.stderr and "Traceback" not in p.stderr


def test_parse_without_a_config_says_why_there_is_no_intent(tmp_path):
    p = opsbot(
        "parse",
        "restart nginx on web-1",
        "--json",
        cwd=tmp_path,
        env_extra={"HOME": str(tmp_path), "OPSBOT_STATE_DIR": str(tmp_path / "state")},
        check=True,
    )
    task = json.loads(p.stdout)
    assert task["intent"] is None and "no inventory is configured" in task["note"]
    plain = opsbot(
        "parse",
        "restart nginx on web-1",
        cwd=tmp_path,
        env_extra={"HOME": str(tmp_path), "OPSBOT_STATE_DIR": str(tmp_path / "state")},
        check=True,
    )
    assert plain.stdout.startswith("(no intent)") and "no inventory is configured" in plain.stdout


def test_parse_conversation_resolves_each_thread_on_its_own(config):
    turns = [
        {"thread": "a", "user": "alice", "text": "restart nginx on web-1"},
        {"thread": "b", "user": "bob", "text": "cpu on web-1"},
        {"thread": "a", "user": "alice", "text": "is it ok now?"},
        {"thread": "b", "user": "bob", "text": "and memory"},
        {"thread": "a", "user": "alice", "text": "算了"},
        "not json",
    ]
    feed = "\n".join(t if isinstance(t, str) else json.dumps(t) for t in turns) + "\n"
    p = opsbot("parse", "--conversation", "--json", "--config", str(config), input=feed, check=True)
    got = [json.loads(line) for line in p.stdout.splitlines()]
    assert [(t["intent"], t["params"].get("host")) for t in got[:4]] == [
        ("service.restart", "web-1"),
        ("metrics.cpu", "web-1"),
        ("service.status", "web-1"),
        ("metrics.memory", "web-1"),
    ]
    assert got[4]["cancel"] == "approval"
    assert got[5]["intent"] is None and "line 6" in got[5]["note"]


def test_audit_verify_with_an_anchor_detects_a_chain_recomputed_without_the_key(config, tmp_path):
    """Attack 4 end to end: the chain is keyed (OPSBOT_AUDIT__KEY), its head was logged; someone with
    the database rewrites a row and recomputes every hash as plain SHA-256: `--anchor` (the log) finds it."""
    key = {"OPSBOT_AUDIT__KEY": "kept-in-the-environment"}
    opsbot(
        "chat",
        "--config",
        str(config),
        "--user",
        "alice",
        input="restart nginx on web-1\nbob\ny\n",
        env_extra=key,
        check=True,
    )
    db = sqlite3.connect(tmp_path / "opsbot.db")
    seq, head = db.execute("select seq, hash from audit_head").fetchone()
    log = tmp_path / "opsbot.log"
    log.write_text(f"12:00:01 INFO opsbot.audit audit anchor {seq}:{head}\n")
    assert opsbot("audit", "verify", "--config", str(config), "--anchor", str(log), env_extra=key).returncode == 0

    prev = "0" * 64  # rehash every row as plain SHA-256: all a rewriter without the key can do
    from datetime import UTC, datetime

    from opsbot.store.audit import content_hash

    for s, ts, actor, kind, data in db.execute(
        "select seq, ts, actor, kind, data from audit_log order by seq"
    ).fetchall():
        data = data.replace("alice", "mallory")
        digest = content_hash(prev, s, datetime.fromisoformat(ts).replace(tzinfo=UTC), actor, kind, data)
        db.execute("update audit_log set data = ?, prev_hash = ?, hash = ? where seq = ?", (data, prev, digest, s))
        prev = digest
    db.execute("update audit_head set hash = ?", (prev,))
    db.commit()
    p = opsbot("audit", "verify", "--config", str(config), "--anchor", str(log), env_extra=key)
    assert p.returncode == 1
    assert f"audit row {seq} does not match the anchor" in p.stdout
    assert "is not keyed though row 1 before it is" not in p.stdout  # every row rewritten: only the anchor knows
