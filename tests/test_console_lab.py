"""What `make run` gives a newcomer: `opsbot chat --lab` against the real local lab, driven as a
person would type, one line at a time."""

import os
import re
import subprocess
import sys

import pytest

from opsbot.testing import component_missing

pytestmark = pytest.mark.lab

TRANSCRIPT = """help
cpu on web-1 last 30 minutes
and on db-1?
is nginx running on web-1?
restart nginx on web-1
bob
y
is nginx running on web-1?
search nginx logs for "upstream timed out"
errors from the api in the last hour
what alerts are firing?
看一下 db-1 最近3小时的CPU
restart nginx on web-9
/quit
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")  # the store goes here, not into the runner's home
    p = subprocess.run(
        [sys.executable, "-m", "opsbot", "chat", "--lab", "--user", "alice"],
        input=TRANSCRIPT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "OPSBOT_STATE_DIR": str(state), "OPSBOT_LAB_SERVING": "0"},
    )
    if p.returncode == 1 and "the lab cannot start" in p.stderr:
        component_missing(p.stderr.strip())
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def answer_to(out: str, line: str) -> str:
    """The console's answer to one typed line: from its prompt to the next prompt."""
    start = out.index(f"> {line}\n") + len(line) + 3
    nxt = re.search(r"^\w+> ", out[start:], re.M)
    return out[start : start + nxt.start()] if nxt else out[start:]


def answers_to(out: str, line: str) -> list[str]:
    """Every answer to a line typed more than once."""
    found, at = [], 0
    while (i := out.find(f"> {line}\n", at)) >= 0:
        found.append(answer_to(out[i - 1 :], line))
        at = i + 1
    return found


def test_help_lists_the_commands(session):
    assert "service.restart" in answer_to(session, "help") and "metrics.cpu" in answer_to(session, "help")


def test_a_cpu_question_gets_a_chart_and_a_follow_up_reuses_it(session):
    cpu = answer_to(session, "cpu on web-1 last 30 minutes")
    assert "[chart:" in cpu and "web-1" in cpu and "min" in cpu
    follow = answer_to(session, "and on db-1?")
    assert "[chart:" in follow and "db-1" in follow


def test_a_restart_waits_for_bob_and_really_restarts_the_service(session):
    asked = answer_to(session, "restart nginx on web-1")
    assert "must approve it" in asked and "Approved by bob" in asked
    # the two answers to "is nginx running" (an alert's diagnosis printed meanwhile may show PIDs too)
    before, after = answers_to(session, "is nginx running on web-1?")[:2]
    pids = re.findall(r"Main PID: (\d+)", before) + re.findall(r"Main PID: (\d+)", after)
    assert len(pids) == 2 and pids[0] != pids[1], "the demo nginx has a new PID after the restart"


def test_logs_alerts_and_chinese_work(session):
    assert "matching lines" in answer_to(session, 'search nginx logs for "upstream timed out"')
    assert "templates" in answer_to(session, "errors from the api in the last hour")
    assert "firing" in answer_to(session, "what alerts are firing?")
    chinese = answer_to(session, "看一下 db-1 最近3小时的CPU")
    assert "[图表：" in chinese and "最近 3h" in chinese  # answered in Chinese, with its chart


def test_an_unknown_host_is_one_clear_sentence(session):
    assert "web-9" in answer_to(session, "restart nginx on web-9") and "Nothing was run" in session
