"""`make run` shows the lab's alerts as they arrive: `/lab stop HOST SERVICE` in `opsbot chat --lab` makes
TargetDown fire in the lab's Prometheus, its Alertmanager sends the webhook to the console, which prints
the alert and its diagnosis while the prompt stays usable; `/lab start` resolves it."""

import os
import subprocess
import sys
import threading

import pytest
from waiting import wait_until

pytestmark = pytest.mark.lab


def test_a_lab_alert_shows_up_in_the_console_with_its_diagnosis(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsbot", "chat", "--lab", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OPSBOT_STATE_DIR": str(tmp_path)},
    )
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True).start()

    def type_(line: str) -> None:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()

    try:
        wait_until(lambda: "Taking Alertmanager's alerts" in "".join(out), timeout=180, what="the console up")
        type_("/lab stop cache-1 redis")
        wait_until(lambda: "[alert]" in "".join(out) and "cache-1" in "".join(out), timeout=120, what="the alert")
        wait_until(lambda: "[diagnosis]" in "".join(out), timeout=120, what="its diagnosis")
        type_("cpu on web-1")  # the prompt still answers
        wait_until(lambda: "web-1" in "".join(out).split("cpu on web-1")[-1], what="an answer")
        type_("/lab start cache-1 redis")
        wait_until(lambda: "resolved" in "".join(out), timeout=120, what="the alert resolved")
        type_("/quit")
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
