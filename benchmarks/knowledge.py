"""kb.ask without a model: index build time and search latency over 2,000 runbook sections (the lab's
runbooks plus generated ones in English and Chinese), with the inventory's names boosted."""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from opsbot.config import Config
from opsbot.knowledge.library import Library
from opsbot.lab.lab import HOSTS, RUNBOOKS

TOPICS = [
    ("failover", "主从切换", "Promote the standby and point the clients at it; rebuild the old primary as a replica."),
    ("restart", "重启", "Restart one instance at a time and wait until it is active before the next one."),
    ("disk full", "磁盘满", "Find what grew under /var, clean up rotated logs, never delete data files."),
    ("certificate renewal", "证书续期", "Renew with the timer's job by hand and reload the proxy afterwards."),
    ("memory pressure", "内存不足", "Look for the biggest consumers, lower the batch size, restart off-peak."),
    ("slow queries", "慢查询", "Find the slowest statements, add the missing index, ask the owning team."),
    ("rollback", "回滚", "Roll back with the pipeline's previous-release job and note the release id."),
    ("backup and restore", "备份与恢复", "Restore to a scratch host first; never restore over the live primary."),
    ("scaling", "扩容", "Add one replica at a time and watch latency for ten minutes."),
    ("ownership", "负责人", "The platform team owns it; page the on-call first, then the primary contact."),
]


def make_runbooks(folder: Path, sections: int, seed: int = 7) -> int:
    """Files of generated sections next to a copy of the lab's runbooks; returns the section count written."""
    rnd = random.Random(seed)
    for src in RUNBOOKS.glob("*.md"):
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    written, n = 0, 0
    while written < sections:
        lines = [f"# Service svc-{n}\n"]
        for _ in range(10):
            topic, zh, body = rnd.choice(TOPICS)
            host = f"node-{rnd.randrange(400)}"
            lines.append(f"## svc-{n} {topic} on {host} ({zh})\n\n{body} Check svc-{n} on {host} afterwards.\n")
            written += 1
        (folder / f"svc-{n}.md").write_text("\n".join(lines), encoding="utf-8")
        n += 1
    return written


def bench_kb(sections: int = 2000, questions: int = 1000) -> dict[str, Any]:
    cases = [
        json.loads(line)["text"]
        for line in (Path(__file__).parents[1] / "tests" / "knowledge" / "kb-questions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    rnd = random.Random(11)
    generated = [
        f"how do we handle {rnd.choice(TOPICS)[0]} for svc-{rnd.randrange(200)} on node-{rnd.randrange(400)}"
        for _ in range(questions // 2)
    ]
    asked = (cases * (questions // 2 // len(cases) + 1))[: questions // 2] + generated
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        make_runbooks(folder, sections)
        hosts = {h: {"address": "127.0.0.1", **spec} for h, spec in HOSTS.items()}
        config = Config(inventory={"hosts": hosts}, knowledge={"sources": [{"path": str(folder)}]})
        library = Library(config)
        started = time.perf_counter()
        index = library.index()
        build_s = time.perf_counter() - started
        times = []
        for q in asked:
            t0 = time.perf_counter()
            library.search(q)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "sections": len(index),
        "questions": len(asked),
        "build_s": round(build_s, 3),
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
    }


if __name__ == "__main__":
    print(bench_kb())
