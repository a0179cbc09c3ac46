"""The Slack front end: Slack's entry points (slash command, mentions, DMs, thread follow-ups, button
clicks, the correction modal) turned into Pipeline calls, and the Replies put back into Slack.

Two halves. The `on_*` methods run on Bolt's ack path: they look at the payload, hand the work to a
bounded queue and return, so Slack gets its acknowledgement well inside 3 seconds whatever the
executors are doing. The underscore methods run on the queue's threads: they de-duplicate through the
store (which every replica shares), call the pipeline, and post the answer. A failure anywhere there
still ends in a message to the person who asked.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from opsbot.core.reply import Button, Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.frontends.slack import blocks as bk
from opsbot.frontends.slack.inbound import FRONTEND, clean_text, conversation_key, ignorable_message, is_dm, user_name
from opsbot.frontends.slack.outbound import Outbox, Progress, Where
from opsbot.frontends.slack.workqueue import WorkQueue
from opsbot.i18n import N_, _, choose_language, use_language

log = logging.getLogger(__name__)

BUSY = N_("I'm busy with {n} requests right now, so I did not take this one; nothing was run. Try again in a minute.")
LANG = re.compile(r"^/?lang\s+(\S+)\s*$", re.I)  # "/ops lang zh", "@opsbot lang auto"
DEFAULT_WORKERS = 8
DEFAULT_MAX_PENDING = 100
KEEP_KEYS = timedelta(hours=24)


class SlackFrontend:
    def __init__(
        self,
        app,
        client: WebClient,
        *,
        workers: int | None = None,
        max_pending: int | None = None,
        progress_interval: float = 1.0,
    ):
        """`app` is opsbot's App (build_app): pipeline, store, rules, config."""
        self.pipeline = app.pipeline
        self.store = app.store
        self.rules = app.rules
        self.config = app.config
        self.client = client
        self.out = Outbox(client)
        slack = self.config.slack
        workers = workers or getattr(slack, "workers", None) or DEFAULT_WORKERS
        max_pending = max_pending or getattr(slack, "max_pending", None) or max(DEFAULT_MAX_PENDING, workers)
        self.work = WorkQueue(workers, max(max_pending, workers), name="opsbot-slack")
        # Short Web API jobs that must not wait behind slow requests: views.open (its trigger expires in
        # 3 s), votes, "I'm busy" notes.
        self.quick = WorkQueue(2, 1000, name="opsbot-slack-ui")
        self.progress_interval = progress_interval
        self.incidents: Any = None  # the IncidentDesk (set by the service): alert buttons act through it

    def close(self) -> None:
        self.work.shutdown(wait=True)
        self.quick.shutdown(wait=True)

    def sweep(self, keep: timedelta = KEEP_KEYS) -> int:
        """Forget de-duplication keys older than `keep` (Slack stops retrying after minutes)."""
        return self.store.forget_processed_events(datetime.now(UTC) - keep)

    def name(self, slack_user_id: str) -> str:
        return user_name(self.config.slack, slack_user_id)

    def language(self, slack_user_id: str, text: str = "") -> str:
        """The language to talk to someone in outside a request (acks, modals): their `/lang`, else the text's."""
        try:
            chosen = self.store.user_language(self.name(slack_user_id))
        except Exception:  # the ack path must not fail on the store
            chosen = None
        return choose_language(text, chosen)

    # ---- the ack path (Bolt listeners): look, hand over, return ------------------------------------

    def on_command(self, ack, command: dict, context) -> None:
        text = clean_text(command.get("text", ""), context.bot_user_id) or "help"
        channel = command.get("channel_id", "")
        where = Where(
            channel=channel,
            thread_ts=None,
            user_id=command.get("user_id", ""),
            dm=is_dm(channel),
            response_url=command.get("response_url"),
        )
        with use_language(self.language(where.user_id, text)):
            if self.work.submit(self._command, command, text, where):
                shown = text if len(text) <= 200 else text[:199] + "…"
                ack(
                    response_type="ephemeral",
                    text=":hourglass_flowing_sand: "
                    + _("Working on it… ({request})").format(request=f"_{bk.escape(shown)}_"),
                )
            else:
                ack(response_type="ephemeral", text=_(BUSY).format(n=self.work.pending))

    def on_event(self, body: dict, event: dict, context) -> None:
        if ignorable_message(event):
            return
        channel = event.get("channel", "")
        dm = is_dm(channel, event.get("channel_type"))
        if event.get("type") == "message" and not dm and not event.get("thread_ts"):
            return  # top-level channel talk; a mention in it comes (also) as app_mention
        queued = self.work.submit(self._event, body, event, context.bot_user_id)
        if not queued and (event.get("type") == "app_mention" or dm):  # not for every thread reply in every channel
            where = Where(
                channel, event.get("thread_ts") or (None if dm else event.get("ts")), event.get("user", ""), dm=dm
            )
            with use_language(self.language(where.user_id, event.get("text", ""))):
                busy = _(BUSY).format(n=self.work.pending)
            self.quick.submit(self.out.ephemeral, busy, where)

    def on_action(self, ack, body: dict, action: dict) -> None:
        ack()
        if action.get("action_id") in ("vote_up", "vote_down"):
            self.quick.submit(self._vote, body, action)
        elif not self.work.submit(self._click, body, action):
            where = self._where_clicked(body)
            with use_language(self.language(where.user_id)):
                busy = _(BUSY).format(n=self.work.pending)
            self.quick.submit(self.out.ephemeral, busy, where)

    def on_view(self, ack, body: dict, view: dict) -> None:
        """The correction modal: checked here against the rules and the inventory (what is wrong shows in
        the modal, and nothing invalid is stored), stored off the ack path."""
        values = view.get("state", {}).get("values", {})
        intent = ((values.get("intent", {}).get("intent", {}) or {}).get("selected_option") or {}).get("value")
        raw = (values.get("params", {}).get("params", {}) or {}).get("value")
        with use_language(self.language((body.get("user") or {}).get("id", ""))):
            if not intent or intent not in self.rules.by_intent:
                ack(response_action="errors", errors={"intent": _("Choose one of the listed commands.")})
                return
            try:
                params = bk.parse_params(raw)
            except ValueError as e:
                ack(
                    response_action="errors",
                    errors={"params": _("{problem}; write key=value pairs separated by commas.").format(problem=e)},
                )
                return
            problem = self.pipeline.check_correction(intent, params)
            if problem:
                ack(response_action="errors", errors={"params": problem})
                return
        ack()
        self.quick.submit(self._correct, body, view, intent, params)

    # ---- the work (queue threads) -------------------------------------------------------------------

    def _first(self, key: str) -> bool:
        """True the first time any replica sees `key` (Slack retries, double deliveries, event pairs)."""
        return self.store.mark_event_processed(key)

    def _answer(self, req: Request, where: Where) -> str | None:
        """Run one request through the pipeline and post the answer; never raises."""
        progress = Progress(self.client, where, interval=self.progress_interval)
        try:
            lang = LANG.match(req.text.strip())
            if lang:
                self.out.answer(self.pipeline.set_language(req.user, lang.group(1)), where, progress)
                return None
            seen: list[Task] = []
            reply = self.pipeline.handle(req, progress, on_task=seen.append)
            if reply.kind == "ignored":
                return None  # thread chatter the bot did not understand
            reply = with_votes(reply)
            ts = self.out.answer(reply, where, progress)
            self._redraw_alert(seen, reply, where)
            if ts and where.thread_ts is None:
                # A top-level answer (slash command, DM): replies in its thread, and clicks on its
                # buttons, continue the same conversation.
                self._link(req.conversation, conversation_key(where.channel, ts, req.user))
            return ts
        except Exception as e:
            log.exception("answering %s in %s failed", req.id, where.channel)
            self.out.failure(where, type(e).__name__)
            return None

    def _redraw_alert(self, seen: list[Task], reply: Reply, where: Where) -> None:
        """An ack or a silence typed in an alert's thread shows on the alert's message too."""
        if self.incidents is None or not where.thread_ts or reply.kind != "result":
            return
        if not seen or seen[-1].intent not in ("alerts.ack", "alerts.silence"):
            return
        try:
            group = self.store.alert_group_at(where.channel, where.thread_ts)
            if group is not None:
                self.incidents.refresh(group.key)
        except Exception:
            log.warning("could not redraw the alert message", exc_info=True)

    def _link(self, source: str, target: str) -> None:
        conversation = self.store.load_conversation(source)
        if not conversation.empty:
            self.store.save_conversation(target, conversation)

    def _command(self, command: dict, text: str, where: Where) -> None:
        trigger = command.get("trigger_id")
        if trigger and not self._first(f"slack:command:{trigger}"):
            return
        req = Request(text=text, user=self.name(where.user_id), channel=where.channel, thread=None, frontend=FRONTEND)
        self._answer(req, where)

    def _event(self, body: dict, event: dict, bot_user_id: str | None) -> None:
        channel = event.get("channel", "")
        dm = is_dm(channel, event.get("channel_type"))
        if event.get("type") == "app_mention":
            thread = event.get("thread_ts") or event.get("ts")
        elif event.get("type") == "message":
            thread = event.get("thread_ts")
            if not dm and (thread is None or self.store.load_conversation(conversation_key(channel, thread, "")).empty):
                return  # channel talk that is not a follow-up in one of my threads (mentions come as app_mention)
        else:
            return
        event_id = body.get("event_id")
        if event_id and not self._first(f"slack:event:{body.get('team_id')}:{event_id}"):
            return  # a retry of an event already taken
        # A mention arrives twice (app_mention and message); answer the message once.
        if not self._first(f"slack:message:{channel}:{event.get('ts')}"):
            return
        text = clean_text(event.get("text", ""), bot_user_id)
        if not text:
            if event.get("type") != "app_mention":
                return
            text = "help"
        where = Where(channel=channel, thread_ts=thread, user_id=event["user"], dm=dm)
        # A mention comes as app_mention and as message; whichever is handled first is addressed.
        addressed = (
            dm
            or event.get("type") == "app_mention"
            or bool(bot_user_id and f"<@{bot_user_id}>" in event.get("text", ""))
        )
        self._answer(
            Request(
                text=text,
                user=self.name(event["user"]),
                channel=channel,
                thread=thread,
                frontend=FRONTEND,
                addressed=addressed,
            ),
            where,
        )

    def _where_clicked(self, body: dict) -> Where:
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        return Where(
            channel=channel,
            thread_ts=message.get("thread_ts") or container.get("thread_ts"),
            user_id=(body.get("user") or {}).get("id", ""),
            dm=is_dm(channel),
            response_url=body.get("response_url"),
        )

    def _click(self, body: dict, action: dict) -> None:
        where = self._where_clicked(body)
        action_id = action.get("action_id", "")
        trigger = body.get("trigger_id")
        if trigger and not self._first(f"slack:action:{trigger}:{action_id}"):
            return  # the same click delivered twice
        try:
            if action_id in ("approve", "deny"):
                self._decide(body, action, where, approve=action_id == "approve")
            elif action_id.startswith("choose"):
                self._choose(body, action, where)
            elif action_id.startswith("alert_") and self.incidents is not None:
                self._alert_click(action, where, action_id.split(":")[0], body)
        except Exception as e:
            log.exception("handling the %s click failed", action_id)
            self.out.failure(where, type(e).__name__)

    def _decide(self, body: dict, action: dict, where: Where, approve: bool) -> None:
        message = body.get("message") or {}
        ts: str = (body.get("container") or {}).get("message_ts") or message.get("ts") or ""
        asked = bk.without_actions(message.get("blocks") or [])
        user = self.name(where.user_id)
        progress = Progress(self.client, where, ts=ts, base_blocks=asked, interval=self.progress_interval)
        reply = self.pipeline.decide(action.get("value", ""), user, approve, progress)
        if not reply.decided:  # refused (e.g. own request), expired, already decided
            self.out.ephemeral(reply, where)
            return
        reply = with_votes(reply)
        with use_language(self.language(where.user_id)):
            verdict = (_("Approved by {user}") if approve else _("Denied by {user}")).format(user=user)
        text, result = bk.render(reply, footer=[bk.context(verdict)])
        keep = asked[: max(0, bk.MAX_BLOCKS - len(result) - 1)]  # the request as asked, then the outcome
        blocks = [*keep, {"type": "divider"}, *result] if keep else result
        self.client.chat_update(channel=where.channel, ts=ts, text=text, blocks=blocks)
        self.out.upload_images(reply, where.channel, where.thread_ts or ts)

    def _choose(self, body: dict, action: dict, where: Where) -> None:
        message = body.get("message") or {}
        ts: str = (body.get("container") or {}).get("message_ts") or message.get("ts") or ""
        value = action.get("value", "")
        user = self.name(where.user_id)
        # The question is answered: drop its buttons so it is not answered twice.
        try:
            label = (action.get("text") or {}).get("text") or value
            with use_language(self.language(where.user_id)):
                chose = _("{user} chose {choice}").format(user=user, choice=label)
            self.client.chat_update(
                channel=where.channel,
                ts=ts,
                text=message.get("text") or value,
                blocks=[*bk.without_actions(message.get("blocks") or []), bk.context(chose)],
            )
        except Exception:
            log.warning("could not mark the question answered", exc_info=True)
        thread = where.thread_ts or (None if where.dm else ts)
        answer_at = Where(where.channel, thread, where.user_id, where.dm, where.response_url)
        self._answer(Request(text=value, user=user, channel=where.channel, thread=thread, frontend=FRONTEND), answer_at)

    def _alert_click(self, action: dict, where: Where, kind: str, body: dict) -> None:
        """Buttons on an alert message: Ack, Silence 1h, and the alert rule's suggestions. Each becomes a
        request of the clicker's, through the same rules, policy and approval as a typed one."""
        message = body.get("message") or {}
        ts: str = (body.get("container") or {}).get("message_ts") or message.get("ts") or ""
        key, _sep, index = action.get("value", "").partition(":")
        desk = self.incidents
        group = self.store.alert_group(key)
        if group is None:
            with use_language(self.language(where.user_id)):
                self.out.ephemeral(_("I know nothing about that alert any more."), where)
            return
        if kind == "alert_suggest":
            steps = desk.suggestions(group)
            if not index.isdigit() or int(index) >= len(steps):
                return
            intent, params = steps[int(index)].intent, steps[int(index)].params
        elif kind == "alert_ack":
            intent, params = "alerts.ack", {"alert": key}
        elif kind == "alert_silence":
            intent, params = "alerts.silence", {"alert": key, "duration": "1h"}
        else:
            return
        text = " ".join([intent, *(f"{k}={str(v)[:16]}" for k, v in params.items())])
        task = Task(intent=intent, params=params, confidence=1.0, parser="button")
        thread = Where(where.channel, ts, where.user_id, where.dm, where.response_url)
        req = Request(text=text, user=self.name(where.user_id), channel=where.channel, thread=ts, frontend=FRONTEND)
        progress = Progress(self.client, thread, interval=self.progress_interval)
        reply = self.pipeline.handle(req, progress, task=task)
        self.out.answer(with_votes(reply), thread, progress)
        if kind != "alert_suggest":
            desk.refresh(key)

    def _vote(self, body: dict, action: dict) -> None:
        where = self._where_clicked(body)
        request_id = action.get("value", "")
        up = action.get("action_id") == "vote_up"
        try:
            if not up and body.get("trigger_id"):
                # First: the trigger expires 3 s after the click.
                view = bk.correction_modal(
                    request_id,
                    self.rules.intents(),
                    asked=self.store.request_text(request_id),
                    channel=where.channel,
                    thread=where.thread_ts,
                )
                self.client.views_open(trigger_id=body["trigger_id"], view=view)
            self.pipeline.vote(request_id, self.name(where.user_id), up)
            if up:
                with use_language(self.language(where.user_id)):
                    self.out.ephemeral(_("Thanks, noted: answers you like become examples I learn from."), where)
        except Exception as e:
            log.exception("recording a vote failed")
            self.out.failure(where, type(e).__name__)

    def _correct(self, body: dict, view: dict, intent: str, params: dict) -> None:
        user_id = (body.get("user") or {}).get("id", "")
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel = meta.get("channel") or ""
        where = Where(channel, meta.get("thread"), user_id, dm=bool(channel) and is_dm(channel))
        try:
            with use_language(self.language(user_id)):
                reply = self.pipeline.correct(meta.get("request", ""), self.name(user_id), intent, params)
        except Exception as e:
            log.exception("storing a correction failed")
            with use_language(self.language(user_id)):
                reply = Reply.error(
                    _("I could not store the correction ({error}); try again or tell an admin.").format(
                        error=type(e).__name__
                    )
                )
        if where.channel:
            try:
                self.out.ephemeral(reply, where)
            except Exception:
                log.exception("could not confirm the correction")


def with_votes(reply: Reply) -> Reply:
    """👍/👎 under every answer (the core adds them to results; a 👎 on "I'm not sure what you want" or
    on an error is the most useful feedback of all). Questions and approval requests are not answers yet."""
    if (
        reply.request_id
        and reply.kind in ("result", "info", "error")
        and not any(b.action in ("vote_up", "vote_down") for b in reply.buttons)
    ):
        reply.buttons = [
            *reply.buttons,
            Button(label="👍", action="vote_up", value=reply.request_id),
            Button(label="👎", action="vote_down", value=reply.request_id),
        ]
    return reply


__all__ = ["SlackFrontend", "with_votes"]
