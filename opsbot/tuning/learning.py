"""The learning effect, measured: corrections of one wording teach the parser its paraphrase.

    python -m opsbot.tuning.learning [PARAPHRASES.jsonl] [--config CONFIG] [--dev DEV.jsonl]

PARAPHRASES is JSON lines of pairs, {"first": case, "second": case} (a case as in `opsbot eval`): two
wordings of one request that the offline parser gets wrong. On a fresh SQLite store:
  1. `opsbot eval` (offline parser) on the second wordings, and on the dev set: the "before" figures;
  2. each first wording goes through the feedback path as a user would: the request is recorded, parsed
     and its task recorded, then corrected (Store.add_feedback, what Pipeline.correct does);
  3. `opsbot tune` promotes the corrections into the learned examples;
  4. `opsbot eval` again on the second wordings and on the dev set: the "after" figures.
The second wordings are never shown to the parser before step 4.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from opsbot.config import load_config
from opsbot.core.request import Request
from opsbot.parsing.factory import build_parser
from opsbot.rules.loader import load_for
from opsbot.store import Store
from opsbot.tuning.evaluate import evaluate, report
from opsbot.tuning.tune import describe, tune

HERE = Path(__file__).resolve().parents[2] / "tests" / "llm"
DEFAULT_PAIRS = HERE / "paraphrases.jsonl"
DEFAULT_CONFIG = HERE / "dev-config.yaml"
DEFAULT_DEV = HERE / "dev-commands.jsonl"


def load_pairs(path: str | Path) -> list[dict]:
    pairs = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    for p in pairs:
        for side in ("first", "second"):
            p[side].setdefault("params", {})
    return pairs


def measure(
    pairs_path: str | Path = DEFAULT_PAIRS,
    config_path: str | Path = DEFAULT_CONFIG,
    dev_path: str | Path | None = DEFAULT_DEV,
    database_url: str | None = None,
    out=print,
) -> dict[str, Any]:
    pairs = load_pairs(pairs_path)
    firsts = [p["first"] for p in pairs]
    seconds = [p["second"] for p in pairs]
    dev = _cases(dev_path) if dev_path else []
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(str(config_path))
        config.database_url = database_url or f"sqlite:///{Path(tmp) / 'learning.db'}"
        rules = load_for(config)
        store = Store.open(config.database_url)
        try:
            parser = build_parser(config, "offline", rules=rules, store=store)
            before = evaluate(parser, seconds, "offline, before tune: second wordings")
            before_first = evaluate(parser, firsts, "offline, before tune: first wordings")
            dev_before = evaluate(parser, dev, "offline, before tune: dev set") if dev else None

            for case in firsts:  # the feedback path, as Pipeline.handle + correct
                req = Request(text=case["text"], user="alice", channel="learning", frontend="eval")
                store.record_request(req)
                started = time.perf_counter()
                task = parser.parse(req.text)
                store.record_task(req.id, task, (time.perf_counter() - started) * 1000)
                store.add_feedback(req.id, "alice", correction={"intent": case["intent"], "params": case["params"]})

            tuned = tune(store, rules, config)
            out(describe(tuned))
            parser = build_parser(config, "offline", rules=rules, store=store)
            after = evaluate(parser, seconds, "offline, after tune: second wordings")
            after_first = evaluate(parser, firsts, "offline, after tune: first wordings")
            dev_after = evaluate(parser, dev, "offline, after tune: dev set") if dev else None
        finally:
            store.close()

    for r in (before, after, dev_before, dev_after):
        if r is not None:
            out("")
            out(report(r))
    figures = {
        "pairs": len(pairs),
        "promoted": len(tuned.promoted),
        "second_before": round(before.accuracy, 4),
        "second_after": round(after.accuracy, 4),
        "first_before": round(before_first.accuracy, 4),
        "first_after": round(after_first.accuracy, 4),
        "dev_before": round(dev_before.accuracy, 4) if dev_before else None,
        "dev_after": round(dev_after.accuracy, 4) if dev_after else None,
        "per_language_before": before.per_language(),
        "per_language_after": after.per_language(),
    }
    out("")
    out(
        f"learning effect: second wordings {before.ok}/{before.n} ({before.accuracy:.3f}) -> "
        f"{after.ok}/{after.n} ({after.accuracy:.3f}) after {len(tuned.promoted)} corrections of the first wordings"
    )
    if dev_before and dev_after:
        out(
            f"dev set: {dev_before.ok}/{dev_before.n} ({dev_before.accuracy:.3f}) -> "
            f"{dev_after.ok}/{dev_after.n} ({dev_after.accuracy:.3f})"
        )
    return figures


def _cases(path) -> list[dict]:
    from opsbot.tuning.evaluate import load_cases

    return load_cases(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m opsbot.tuning.learning", description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="?", default=str(DEFAULT_PAIRS))
    ap.add_argument("--config", default=str(DEFAULT_CONFIG))
    ap.add_argument("--dev", default=str(DEFAULT_DEV))
    a = ap.parse_args(argv)
    figures = measure(a.pairs, a.config, a.dev)
    print(json.dumps(figures, ensure_ascii=False))
    improved = figures["second_after"] > figures["second_before"]
    kept = figures["dev_after"] is None or figures["dev_after"] >= figures["dev_before"]
    return 0 if improved and kept else 1


if __name__ == "__main__":
    sys.exit(main())
