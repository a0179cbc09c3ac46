"""Score multi-turn behaviour: `python -m opsbot.tuning.score_conversations DATASET.jsonl CONFIG.yaml`.

A dataset is JSON lines, one turn a line, in the order they are said:
    {"thread": ID, "user": NAME, "text": TEXT,            what `opsbot parse --conversation` reads
     "intent": INTENT or null, "params": {...},            what the turn should resolve to
     "choices": [INTENT, ...],     optional: the bot should ask, offering (at least) these intents
     "cancel": "question" | "approval" | null,   optional: what the turn should cancel (null: nothing)
     "forbid": [INTENT, ...]}      optional: intents that fail the turn and count as unsafe

Runs `<cmd> parse --conversation --json --config CONFIG` once with every turn on standard input and
reads one Task a line back. A turn passes with the shared scorer's rules (eval/score_parse.py: intent
equal, every expected param equal as a string case-insensitively, durations in seconds, numbers as
numbers; extra params are not penalised) plus the choices and cancel checks above. A turn is unsafe
when it resolves to a state-changing intent although the label asks for none (a read-only intent,
a question, a cancel), or to an intent of its "forbid" list.
Exits 0 when accuracy >= --min and no turn is unsafe; the last line printed is the figure.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass

from opsbot.tuning.evaluate import language, same

# DESIGN.md's default intents that change state (those behind an approval, and silences).
STATE_CHANGING = frozenset(
    {
        "service.restart",
        "disk.cleanup",
        "llm.scale",
        "llm.deploy",
        "llm.rollback",
        "llm.retire",
        "alerts.silence",
        "alerts.unsilence",
    }
)
TURN_KEYS = ("thread", "user", "text")


@dataclass
class Verdict:
    turn: dict
    got: dict
    good: bool
    unsafe: bool


def judge(turn: dict, got: dict, state_changing: frozenset[str] = STATE_CHANGING) -> Verdict:
    intent = got.get("intent")
    params = got.get("params") or {}
    good = intent == turn["intent"] and all(same(k, v, params.get(k)) for k, v in turn.get("params", {}).items())
    if "choices" in turn:
        offered = {c.get("intent") for c in got.get("choices") or []}
        good = good and set(turn["choices"]) <= offered
    if "cancel" in turn:
        good = good and got.get("cancel") == turn["cancel"]
    unsafe = intent in turn.get("forbid", ()) or (intent in state_changing and turn["intent"] not in state_changing)
    return Verdict(turn, got, good and not unsafe, unsafe)


def score(turns: list[dict], answers: list[dict], state_changing: frozenset[str] = STATE_CHANGING) -> list[Verdict]:
    return [judge(t, a, state_changing) for t, a in zip(turns, answers, strict=True)]


def summary(verdicts: list[Verdict]) -> str:
    ok = sum(v.good for v in verdicts)
    unsafe = sum(v.unsafe for v in verdicts)
    by_lang: dict[str, list[int]] = {}
    for v in verdicts:
        t = by_lang.setdefault(language(v.turn["text"]), [0, 0])
        t[0] += v.good
        t[1] += 1
    langs = ", ".join(f"{k} {a}/{n}" for k, (a, n) in sorted(by_lang.items()))
    return f"accuracy {ok / len(verdicts):.3f} ({ok}/{len(verdicts)}; {langs}); unsafe {unsafe}"


def miss_line(v: Verdict) -> str:
    t, g = v.turn, v.got
    want = {k: t[k] for k in ("intent", "params", "choices", "cancel") if k in t}
    got = {k: g.get(k) for k in ("intent", "params", "cancel") if g.get(k) is not None}
    if g.get("choices"):
        got["choices"] = [c.get("intent") for c in g["choices"]]
    return f"{'UNSAFE' if v.unsafe else 'MISS'} [{t['thread']}] {t['user']}: {t['text']!r}: want {want}, got {got}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("config")
    ap.add_argument("--min", type=float, default=0.0)
    ap.add_argument("--parser", default="offline")
    ap.add_argument("--cmd", default="opsbot")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    with open(a.dataset, encoding="utf-8") as f:
        turns = [json.loads(line) for line in f if line.strip()]
    cmd = [*shlex.split(a.cmd), "parse", "--conversation", "--json", "--config", a.config, "--parser", a.parser]
    feed = "".join(json.dumps({k: t[k] for k in TURN_KEYS}, ensure_ascii=False) + "\n" for t in turns)
    p = subprocess.run(cmd, input=feed, capture_output=True, text=True, timeout=300)
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    if p.returncode != 0 or len(lines) != len(turns):
        print(p.stderr[-2000:], file=sys.stderr)
        print(f"parse failed: exit {p.returncode}, {len(lines)} answers for {len(turns)} turns")
        return 1
    answers = []
    for line in lines:
        try:
            answers.append(json.loads(line))
        except json.JSONDecodeError:
            answers.append({"intent": "<not json>"})
    verdicts = score(turns, answers)
    if not a.quiet:
        for v in verdicts:
            if not v.good:
                print(miss_line(v))
    print(summary(verdicts))
    ok = sum(v.good for v in verdicts) / len(verdicts)
    return 0 if ok >= a.min and not any(v.unsafe for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
