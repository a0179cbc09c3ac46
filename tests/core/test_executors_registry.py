"""The executor registry: executors are built once, on first use, even when worker threads ask at once."""

from __future__ import annotations

import threading
import time

from opsbot.config import Config
from opsbot.executors.fields import BotFields
from opsbot.executors.registry import REGISTRY, Executors, Registered


class SlowToBuild:
    """An executor whose construction takes a while, as opening a connection pool does."""

    name = "slow"
    built = 0

    def __init__(self, config: Config):
        type(self).built += 1
        time.sleep(0.2)  # widens the window in which a second thread could start building too


def test_threads_asking_at_once_share_one_executor(monkeypatch):
    monkeypatch.setitem(REGISTRY, "slow", Registered(BotFields, f"{__name__}:SlowToBuild"))
    monkeypatch.setattr(SlowToBuild, "built", 0)
    executors = Executors(Config())
    start = threading.Barrier(8)
    got = []

    def ask():
        start.wait()
        got.append(executors.get("slow"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert SlowToBuild.built == 1
    assert len(got) == 8 and all(g is got[0] for g in got)


def test_the_logs_executor_shares_the_ssh_executor():
    executors = Executors(Config())
    try:
        assert executors.get("logs").ssh is executors.get("ssh")
    finally:
        executors.close()
