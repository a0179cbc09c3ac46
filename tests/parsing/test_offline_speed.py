"""The parse benchmark behind `make bench` (default packs, and 500 generated rules on top). Its latency
targets are read from `make bench`, not asserted here: timings in tests are noise on a busy machine."""

from __future__ import annotations

import pytest

from benchmarks.parse import SENTENCES, bench_parse, synthetic_rules


@pytest.mark.slow  # parses every benchmark sentence twice over 500 extra rules
def test_the_parse_benchmark_times_every_sentence_with_and_without_extra_rules():
    for extra in (0, 500):
        r = bench_parse(extra, rounds=2)
        assert r["n"] == 2 * len(SENTENCES) and 0 < r["p50_ms"] <= r["p99_ms"], r


def test_synthetic_rules_are_made_up_and_deterministic():
    a, b = synthetic_rules(20), synthetic_rules(20)
    assert [r.intent for r in a] == [r.intent for r in b]
    assert len({r.intent for r in a}) == 20 and all(r.intent.startswith("synth.") for r in a)
