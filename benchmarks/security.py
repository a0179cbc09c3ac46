"""What the security hardening (issue #9) costs, and how fast hostile input is refused.

- shell rendering: plans per second of a shell rule with a free-text value (positional parameters);
- hostile YAML: seconds to refuse a 9^7 alias bomb and a 50 MB file (targets: well under 1 s each);
- the store boundary: request+reply writes per second with redaction, and with encryption as well,
  against plain writes (the figure that matters is the ratio).

    python -m benchmarks.security
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from opsbot.config import Config, Inventory
from opsbot.core.reply import Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.rules.tester import SAMPLE_INVENTORY
from opsbot.store import Store
from opsbot.yamlsource import SourceError, load

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else '1, 2, 3, 4, 5, 6, 7, 8, 9'}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)


def bench_render(n: int = 3000) -> dict:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "p.yaml").write_text(
            "rules:\n  - intent: x.note\n    summary: note\n    params: {text: {type: text, required: true}}\n"
            "    action: {executor: ssh, command: 'logger -t opsbot -- {{ text }} && echo {{ text }}'}\n"
        )
        engine = Engine(load_rules([Path(d)], defaults=False), Config(inventory=Inventory(**SAMPLE_INVENTORY)))
    task = Task(intent="x.note", params={"text": "it's $(broken) `again`; really"})
    started = time.perf_counter()
    for _ in range(n):
        engine.plan(task)
    return {"plans_per_s": n / (time.perf_counter() - started)}


def bench_hostile_yaml() -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for name, text in (("alias_bomb", BOMB), ("fifty_mb", "x: 1\n" + "# padding\n" * 5_000_000)):
            path = Path(d) / f"{name}.yaml"
            path.write_text(text)
            started = time.perf_counter()
            with contextlib.suppress(SourceError):  # refused: that is the point
                load(path)
            out[f"{name}_refused_s"] = time.perf_counter() - started
    return out


def _writes(store: Store, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        req = Request(text=f"search logs for password=hunter{i} on web-1", user="U1")
        store.record_request(req)
        store.record_reply(req.id, Reply(text=f"found 3 lines with password=[REDACTED] ({i})"))
    return n / (time.perf_counter() - started)


def bench_store(n: int = 400) -> dict:
    with tempfile.TemporaryDirectory() as d:
        with Store.open(f"sqlite:///{Path(d) / 'a.db'}") as plain:
            redacted = _writes(plain, n)
        with Store.open(f"sqlite:///{Path(d) / 'b.db'}", keys=[Fernet.generate_key()]) as sealed:
            encrypted = _writes(sealed, n)
    return {"redacted_per_s": redacted, "redacted_and_encrypted_per_s": encrypted, "ratio": encrypted / redacted}


def main() -> dict:
    results = {"render": bench_render(), "hostile_yaml": bench_hostile_yaml(), "store": bench_store()}
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
