"""A storm: more than `alertmanager.storm` new alert groups within a minute become one summary message
with counts (edited as groups join or resolve), not one message each; every group is still kept."""

from __future__ import annotations

import pytest
from incident_helpers import start_incident_bot, stop_incident_bot
from waiting import wait_until

from opsbot.testing.alert_payloads import alert, notification

pytestmark = pytest.mark.servers

GROUPS = 40


@pytest.fixture
def ib(tmp_path):
    bot = start_incident_bot(tmp_path, alertmanager={"storm": 2})
    yield bot
    stop_incident_bot(bot)


def group(i: int, status: str = "firing") -> dict:
    name = "HostHighCpuLoad" if i % 2 else "ProbeFailed"
    return notification(
        [alert({"alertname": name, "instance": f"node-{i}:9100"}, status=status)],
        group_labels={"alertname": name, "instance": f"node-{i}:9100"},
    )


def test_a_storm_of_groups_becomes_one_summary(ib):
    for i in range(GROUPS):
        assert ib.send(group(i))[0] == 200
    ib.settle()
    posts = ib.alert_posts()
    assert len(posts) <= 3  # the first groups of the minute, then one summary
    assert len(ib.store.recent_alert_groups(limit=1000)) == GROUPS  # no group lost
    summary = [p for p in posts if "storm" in p.params["text"]]
    assert len(summary) == 1
    ts = summary[0].response["ts"]
    last = wait_until(
        lambda: [c for c in ib.api.calls("chat.update") if c.params["ts"] == ts and "storm" in c.params["text"]],
        what="the summary edited with every group",
    )[-1]
    stormed = GROUPS - (len(posts) - 1)
    assert f"{stormed} alert groups" in last.params["text"]
    assert "HostHighCpuLoad" in last.params["text"] and "ProbeFailed" in last.params["text"]
    # groups resolving in the storm edit the summary, not post anything
    for i in range(GROUPS):
        ib.send(group(i, status="resolved"))
    ib.settle()
    assert len(ib.alert_posts()) == len(posts)
    wait_until(
        lambda: "0 firing" in str([c.params["text"] for c in ib.api.calls("chat.update") if c.params["ts"] == ts][-1:]),
        what="the summary counting the resolved groups",
    )
