"""Write throughput: record_request, one transaction each, must reach 2,000/s on SQLite."""
from __future__ import annotations

from opsbot.store.bench import bench_writes


def test_request_writes_are_fast_enough(db_url):
    n = 3000 if db_url.startswith("sqlite") else 300
    result = bench_writes(db_url, n=n)
    assert result["n"] == n
    if db_url.startswith("sqlite"):
        assert result["requests_per_s"] >= 2000, result
    else:
        assert result["requests_per_s"] > 0
