"""Store write throughput: record_request, one transaction each (the target on SQLite is 2,000/s).

    python -m benchmarks.store [URL] [N]      # default: a throwaway SQLite file

Writes N requests into the database at URL: point it at a scratch database, not the bot's own.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from opsbot.core.request import Request
from opsbot.store.store import Store


def bench_writes(url: str, n: int = 5000) -> dict:
    store = Store.open(url)
    try:
        batch = [
            Request(text=f"cpu on web-{i % 10} for the last hour", user=f"U{i % 7}", channel="C1") for i in range(n)
        ]  # built first: only the writes are timed
        started = time.perf_counter()
        for request in batch:
            store.record_request(request)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return {"requests_per_s": round(n / seconds, 1), "n": n, "seconds": round(seconds, 3)}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[1]) if len(args) > 1 else 5000
    if args:
        print(bench_writes(args[0], n))
        return
    with tempfile.TemporaryDirectory() as scratch:
        print(bench_writes(f"sqlite:///{Path(scratch) / 'bench.db'}", n))


if __name__ == "__main__":
    main()
