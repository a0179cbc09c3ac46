"""An outcome check's result is posted in the Slack thread of the request that made the change (the
check itself is specified on the lab in tests/outcomes; here, what the Slack front end does with it)."""

from slack_helpers import CHANNEL

from opsbot.pipeline.outcomes import Outcome


def test_an_outcome_is_posted_in_the_requests_thread(bot):
    asked = bot.mention("help")
    bot.posted(thread_ts=asked["ts"])
    request_id = list(bot.store.export_feedback())[-1]["request_id"]
    assert bot.store.request_place(request_id) == (CHANNEL, asked["ts"], "slack")
    text = "Check 5s after the change (service.status): fixed. `active`"
    for listener in bot.app.pipeline.outcome_listeners:
        listener(Outcome("exec-1", request_id, "fixed", text))
    calls = bot.posted(count=2, thread_ts=asked["ts"])
    assert text in calls[1].params["text"]
