"""The multi-turn labelled set (tests/conversations/*.jsonl, three inventories, EN and ZH), scored through
`opsbot parse --conversation --json` as a user would run it: at least 0.95 of the turns resolve right, and no
turn becomes a change where none was asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from opsbot.tuning.score_conversations import score, summary

HERE = Path(__file__).resolve().parent
SETS = ["lab", "shop", "campus"]


def replay(name: str) -> tuple[list[dict], list[dict]]:
    turns = [json.loads(line) for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line]
    feed = "".join(json.dumps({k: t[k] for k in ("thread", "user", "text")}, ensure_ascii=False) + "\n" for t in turns)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsbot",
            "parse",
            "--conversation",
            "--json",
            "--config",
            str(HERE / f"{name}-config.yaml"),
            "--parser",
            "offline",
        ],
        input=feed,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPSBOT_DATABASE_URL": "sqlite:////nonexistent/opsbot.db"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return turns, [json.loads(line) for line in run.stdout.splitlines()]


@pytest.fixture(scope="module")
def verdicts():
    out = []
    with ThreadPoolExecutor(len(SETS)) as pool:  # three processes at once: most of each is starting up
        for turns, answers in pool.map(replay, SETS):
            assert len(answers) == len(turns)
            out += score(turns, answers)
    return out


def test_the_set_has_enough_turns_in_both_languages(verdicts):
    langs = [("zh" if any("\u4e00" <= c <= "\u9fff" for c in v.turn["text"]) else "en") for v in verdicts]
    assert len(verdicts) >= 80 and langs.count("zh") >= 30 and langs.count("en") >= 30


def test_conversations_resolve_as_labelled(verdicts):
    good = sum(v.good for v in verdicts) / len(verdicts)
    assert good >= 0.95, summary(verdicts)


def test_no_turn_becomes_a_change_nobody_asked_for(verdicts):
    assert [v.turn["text"] for v in verdicts if v.unsafe] == []
