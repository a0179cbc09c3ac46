"""Attack 2: a host typo must not widen to a group. `web-l`, `web-I` and `webl` each became an approval
for the group `web` (2 hosts). A corrected name never changes how many hosts a request touches, and a
change on a corrected host is asked about ("did you mean … web-1?") before any approval exists."""

from __future__ import annotations

import pytest
from pipeline_helpers import ask


def approvals(app):
    return [r for r in app.store.audit_rows(limit=1000) if r["kind"] == "approval.requested"]


@pytest.mark.parametrize("typo", ["web-l", "web-I", "webl", "wbe-1"])
def test_a_change_on_a_misspelt_host_is_a_question_then_an_approval_for_that_one_host(app, typo):
    question = ask(app, f"restart nginx on {typo}")
    assert question.kind == "question"
    assert question.text.startswith("Did you mean: Restart nginx on web-1")
    assert approvals(app) == []  # nothing to approve yet
    approval = ask(app, "yes")
    assert approval.kind == "approval"
    [requested] = approvals(app)
    assert requested["data"]["params"]["host"] == "web-1"
    assert "2 hosts" not in approval.text


@pytest.mark.parametrize("typo", ["web-l", "webl"])
def test_a_read_on_a_misspelt_host_reads_that_host_not_the_group(app, typo):
    task = app.pipeline.parser.parse(f"cpu on {typo}")
    assert task.params.get("host") == "web-1"


def test_a_group_is_still_a_group_when_written_as_one(app):
    reply = ask(app, "restart nginx on web")
    assert reply.kind == "approval" and "2 hosts" in reply.text
