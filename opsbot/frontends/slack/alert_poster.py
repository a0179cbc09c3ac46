"""The incident desk's Poster for Slack: alert messages at the top level of a channel (with their
buttons), updated in place, and diagnoses in their thread with charts and 👍/👎."""

from __future__ import annotations

from opsbot.core.reply import Reply
from opsbot.frontends.slack import blocks as bk
from opsbot.frontends.slack.outbound import Outbox, Where


class SlackPoster:
    def __init__(self, out: Outbox, with_votes):
        self.out = out
        self.with_votes = with_votes

    def post(self, channel: str, reply: Reply) -> tuple[str, str]:
        text, blocks = bk.render(reply)
        resp = self.out.client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
        return str(resp.get("channel") or channel), str(resp["ts"])  # the id, also when given a name

    def update(self, channel: str, ts: str, reply: Reply) -> None:
        self.out.update(channel, ts, reply)

    def reply_in_thread(self, channel: str, ts: str, reply: Reply) -> None:
        self.out.answer(self.with_votes(reply), Where(channel=channel, thread_ts=ts, user_id=""))
