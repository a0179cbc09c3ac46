"""Putting Replies into Slack: messages, ephemeral notes, edits, chart uploads, and progress that edits
one message instead of posting many. Every Web API call goes through one WebClient, which retries
rate limits (HTTP 429, honouring Retry-After), connection errors and 5xx answers (see client.py)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from opsbot.core.reply import Reply
from opsbot.frontends.slack import blocks as bk
from opsbot.i18n import _

log = logging.getLogger(__name__)

# Errors after which a plain-text message may still get through.
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"}
# Errors that mean the bot cannot post in that channel (not invited, DM with someone else, archived).
PLACE_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


@dataclass
class Where:
    """Where an answer goes and for whom."""

    channel: str
    thread_ts: str | None  # the thread to answer in; None: the top level of the channel / DM
    user_id: str  # the Slack user the answer is for (ephemeral replies go to them)
    dm: bool = False
    response_url: str | None = None  # slash commands and clicks: a fallback when the bot is not in the channel


class Progress:
    """The core's progress callback for one request: the first line posts a message, later lines edit
    it (at most once per `interval` seconds); `message_ts` is then the message the answer can replace.
    Given `ts` and `base_blocks`, it edits an existing message (an approval request) instead."""

    def __init__(
        self,
        client: WebClient,
        where: Where,
        *,
        ts: str | None = None,
        base_blocks: list[dict] | None = None,
        interval: float = 1.0,
    ):
        self.client = client
        self.where = where
        self.message_ts = ts
        self.base_blocks = base_blocks
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()
        self.posted = False  # whether this object posted a message of its own

    def __call__(self, text: str) -> None:
        line = f":hourglass_flowing_sand: {bk.escape(text)}"
        try:
            with self._lock:
                now = time.monotonic()
                if self.message_ts is None:
                    resp = self.client.chat_postMessage(
                        channel=self.where.channel,
                        thread_ts=self.where.thread_ts,
                        text=line,
                        unfurl_links=False,
                        unfurl_media=False,
                    )
                    self.message_ts, self.posted, self._last = resp["ts"], True, now
                elif now - self._last >= self.interval:
                    blocks = []
                    if self.base_blocks is not None:  # keep the message, add the line under it
                        blocks = [
                            *self.base_blocks,
                            {"type": "context", "elements": [bk.mrkdwn(line)]},
                        ]
                    self.client.chat_update(channel=self.where.channel, ts=self.message_ts, text=line, blocks=blocks)
                    self._last = now
        except Exception:  # progress is a courtesy: it never breaks the request
            log.warning("progress update failed", exc_info=True)


class Outbox:
    def __init__(self, client: WebClient):
        self.client = client

    # ---- answers ---------------------------------------------------------------------------------

    def answer(self, reply: Reply, where: Where, progress: Progress | None = None) -> str | None:
        """Post `reply`; returns the ts of the public message it became (None when ephemeral)."""
        if reply.ephemeral and not where.dm:
            self.ephemeral(reply, where)
            if progress is not None and progress.posted:
                self._quietly(
                    self.client.chat_update,
                    channel=where.channel,
                    ts=progress.message_ts,
                    text=_("Done; the answer was shown only to the person who asked."),
                    blocks=[],
                )
            return None
        text, blocks = bk.render(reply)
        ts = progress.message_ts if progress is not None and progress.posted else None
        if ts is not None:
            try:
                self.client.chat_update(channel=where.channel, ts=ts, text=text, blocks=blocks)
            except SlackApiError as e:
                if e.response.get("error") not in BLOCK_ERRORS:
                    raise
                self.client.chat_update(channel=where.channel, ts=ts, text=self._plain(reply), blocks=[])
        else:
            ts = self._post(where, text, blocks, reply)
        if ts is not None:
            self.upload_images(reply, where.channel, where.thread_ts or ts)
        return ts

    def post(self, channel: str, reply: Reply) -> str:
        """A message nobody asked for in chat (a scheduled digest): the top level of `channel`, charts
        uploaded into its thread. Returns the message's ts; raises when Slack refuses it."""
        reply = reply.model_copy(update={"ephemeral": False, "buttons": []})  # no one to show it to privately
        text, blocks = bk.render(reply)
        try:
            resp = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as e:
            if e.response.get("error") not in BLOCK_ERRORS:
                raise
            resp = self.client.chat_postMessage(channel=channel, text=self._plain(reply), unfurl_links=False)
        # Uploads need the channel's id; the answer has it even when `channel` was a name like "#ops".
        self.upload_images(reply, resp.get("channel") or channel, resp["ts"])
        return resp["ts"]

    def _post(self, where: Where, text: str, blocks: list[dict], reply: Reply) -> str | None:
        try:
            return self.client.chat_postMessage(
                channel=where.channel,
                thread_ts=where.thread_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            )["ts"]
        except SlackApiError as e:
            error = e.response.get("error")
            if error in BLOCK_ERRORS:
                return self.client.chat_postMessage(
                    channel=where.channel, thread_ts=where.thread_ts, text=self._plain(reply), unfurl_links=False
                )["ts"]
            if error in PLACE_ERRORS and where.response_url:
                # Slash commands work in channels the bot is not in; its response_url still reaches them.
                WebhookClient(where.response_url).send(text=text, blocks=blocks, response_type="in_channel")
                return None
            raise

    def ephemeral(self, reply: Reply | str, where: Where) -> None:
        """Only `where.user_id` sees it (in a DM: a normal message, a DM is private anyway)."""
        if isinstance(reply, str):
            reply = Reply(text=reply, kind="info")
        text, blocks = bk.render(reply)
        if reply.images:
            blocks.append(
                bk.context(
                    _("{count} chart(s) are not shown in a private answer; ask in a DM with me to get them.").format(
                        count=len(reply.images)
                    )
                )
            )
        if where.dm:
            self._post(where, text, blocks, reply)
            return
        try:
            self.client.chat_postEphemeral(
                channel=where.channel, user=where.user_id, thread_ts=where.thread_ts, text=text, blocks=blocks
            )
        except SlackApiError as e:
            if e.response.get("error") in PLACE_ERRORS and where.response_url:
                WebhookClient(where.response_url).send(text=text, blocks=blocks, response_type="ephemeral")
            elif e.response.get("error") in BLOCK_ERRORS:
                self.client.chat_postEphemeral(
                    channel=where.channel, user=where.user_id, thread_ts=where.thread_ts, text=self._plain(reply)
                )
            else:
                raise

    def update(
        self, channel: str, ts: str, reply: Reply, *, footer: list[dict] | None = None, buttons: bool = True
    ) -> None:
        text, blocks = bk.render(reply, buttons=buttons, footer=footer)
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def upload_images(self, reply: Reply, channel: str, thread_ts: str | None) -> None:
        """Charts go into the thread as files: files.getUploadURLExternal → upload → completeUploadExternal."""
        for image in reply.images:
            self.client.files_upload_v2(
                channel=channel, thread_ts=thread_ts, content=image.png, filename=image.filename, title=image.title
            )

    def failure(self, where: Where, detail: str | None = None) -> None:
        """The last word when a handler broke: the person is told, whatever else failed."""
        text = _(
            "Something went wrong on my side while handling that; nothing more was run. "
            "The error is logged; try again or ask an admin."
        )
        if detail:
            text += f" ({detail})"
        try:
            self.ephemeral(Reply.error(text), where)
        except Exception:
            try:
                self.client.chat_postMessage(
                    channel=where.channel, thread_ts=where.thread_ts, text=":warning: " + bk.escape(text)
                )
            except Exception:
                log.exception("could not even report a failure to %s in %s", where.user_id, where.channel)

    @staticmethod
    def _plain(reply: Reply) -> str:
        text = bk.escape(reply.text)
        return text[: bk.FALLBACK_LIMIT] + ("…" if len(text) > bk.FALLBACK_LIMIT else "")

    @staticmethod
    def _quietly(fn, **kw) -> None:
        try:
            fn(**kw)
        except Exception:
            log.warning("%s failed", getattr(fn, "__name__", fn), exc_info=True)
