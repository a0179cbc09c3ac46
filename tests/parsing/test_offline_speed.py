"""Parse time stays small with the default packs and with 500 extra rules (an index, not a scan).

Timings are noisy on a busy machine, so a figure over the target is measured again (up to three runs)
before the test fails: a slow parser fails every run, a noisy neighbour does not."""
from __future__ import annotations

from opsbot.parsing.bench import SENTENCES, bench_parse, synthetic_rules


def best_of_three(extra: int, target_ms: float, rounds: int) -> dict:
    runs = []
    for _ in range(3):
        runs.append(bench_parse(extra, rounds=rounds))
        if runs[-1]["p99_ms"] <= target_ms:
            break
    return min(runs, key=lambda r: r["p99_ms"])


def test_default_packs_p99_within_2ms():
    r = best_of_three(0, 2.0, rounds=10)
    assert r["n"] == 10 * len(SENTENCES)
    assert r["p99_ms"] <= 2.0, r


def test_500_extra_rules_p99_within_10ms():
    r = best_of_three(500, 10.0, rounds=5)
    assert r["p99_ms"] <= 10.0, r


def test_synthetic_rules_are_made_up_and_deterministic():
    a, b = synthetic_rules(20), synthetic_rules(20)
    assert [r.intent for r in a] == [r.intent for r in b]
    assert len({r.intent for r in a}) == 20 and all(r.intent.startswith("synth.") for r in a)
