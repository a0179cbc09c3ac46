"""Scheduled digests in `opsbot serve`: the service's scheduler posts each due digest to its channel
through the Web API (charts uploaded into the message's thread), once per slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_helpers import start_socket_bot, stop_socket_bot
from waiting import wait_until

from opsbot.scheduler import slot_key

DIGEST_CHANNEL = "C0DIGEST"


def just_missed() -> tuple[str, datetime]:
    """A daily time a minute ago: the scheduler's start-up catch-up (10 min grace) posts it at once."""
    slot = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    return slot.strftime("%H:%M"), slot


@pytest.fixture
def digest_bot(tmp_path):
    schedule, slot = just_missed()
    b = start_socket_bot(
        tmp_path, digests={"daily": {"channel": DIGEST_CHANNEL, "schedule": schedule, "intents": ["help"]}}
    )
    b.slot = slot
    yield b
    stop_socket_bot(b)


def test_serve_posts_a_due_digest_to_its_channel(digest_bot):
    [call] = digest_bot.posted(channel=DIGEST_CHANNEL)
    assert "thread_ts" not in call.params or not call.params["thread_ts"]  # a top-level message
    assert "Digest daily" in call.params["text"] and "help" in call.params["text"]
    assert call.params["blocks"], "rendered as Block Kit"
    assert "vote_up" not in str(call.params["blocks"])  # nobody asked: no votes
    # The slot is claimed in the shared store: another replica (or a restart) will not post it again.
    assert not digest_bot.store.mark_event_processed(slot_key("daily", digest_bot.slot))


def test_a_second_replica_on_the_same_database_does_not_post_the_digest_again(digest_bot, tmp_path):
    digest_bot.posted(channel=DIGEST_CHANNEL)
    # A second `opsbot serve` with the same config and database (its own fake Slack, to see what it posts).
    digests = digest_bot.app.config.model_dump()["digests"]
    other = start_socket_bot(tmp_path, digests=digests)
    try:
        wait_until(lambda: other.service.scheduler.ticks >= 1)  # its start-up catch-up has run
        assert other.api.calls("chat.postMessage") == []
    finally:
        stop_socket_bot(other)
    assert len(digest_bot.api.calls("chat.postMessage")) == 1


def test_a_digest_chart_is_uploaded_into_the_digest_message_thread(tmp_path, prometheus_lab):
    schedule, _ = just_missed()
    b = start_socket_bot(
        tmp_path,
        prometheus_url=prometheus_lab.url,
        digests={"charts": {"channel": DIGEST_CHANNEL, "schedule": schedule, "intents": ["metrics.memory"]}},
    )
    try:
        [call] = b.posted(channel=DIGEST_CHANNEL)
        [done] = b.api.wait_for("files.completeUploadExternal")
        assert done.params["channel_id"] == DIGEST_CHANNEL and done.params["thread_ts"] == call.response["ts"]
        [file] = done.params["files"]
        assert b.api.uploads[file["id"]].startswith(b"\x89PNG\r\n\x1a\n")
    finally:
        stop_socket_bot(b)
