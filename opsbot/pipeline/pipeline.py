"""Request -> Task -> rule -> policy -> (approval) -> executor -> Reply, with every step stored.
Front-end neutral: front ends call `handle`, `decide`, `vote` and `correct`, and render the Replies."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from opsbot.config import Config
from opsbot.core.action import ExecutionContext, ExecutorUnavailable, Progress
from opsbot.core.conversation import Conversation, LastTask, PendingQuestion
from opsbot.core.durations import parse_duration
from opsbot.core.parser import Parser
from opsbot.core.reply import Button, Reply
from opsbot.core.request import MAX_CHARS, Request
from opsbot.core.task import Task
from opsbot.executors.registry import Executors
from opsbot.i18n import _, choose_language, current_language, use_language
from opsbot.i18n.language import OVERRIDES
from opsbot.logging_setup import REQUEST_ID, request_context
from opsbot.metrics import Metrics
from opsbot.parsing.offline import phrasing
from opsbot.parsing.offline.parser import KB_INTENT
from opsbot.pipeline import outcomes
from opsbot.pipeline.access import may_approve, may_ask
from opsbot.pipeline.choose import pick_choice
from opsbot.pipeline.clarify import choice_label, choices_question, question_for
from opsbot.pipeline.heartbeat import heartbeat
from opsbot.pipeline.llm_note import llm_note
from opsbot.pipeline.offers import offered_choices
from opsbot.pipeline.sanitize import sanitize
from opsbot.pipeline.unwritten import ask_unwritten
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine, Plan, PlanError, UnknownIntent
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import OutcomeCheck
from opsbot.store import ApprovalRecord, Store
from opsbot.store.liveness import HEARTBEAT_SECONDS

log = logging.getLogger(__name__)

QUESTION_TTL = timedelta(minutes=15)  # an unanswered clarifying question lapses after this
FOLLOW_UP_TTL = timedelta(hours=2)  # "and on web-2?" refers to a task at most this old
UNADDRESSED_MIN = 0.7  # thread messages not addressed to the bot must parse this clearly


def utcnow() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    def __init__(
        self,
        config: Config,
        rules: RuleSet,
        store: Store,
        parser: Parser,
        executors: Executors | None = None,
        now: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
    ):
        self.config = config
        self.rules = rules
        self.engine = Engine(rules, config)
        self.store = store
        self.parser = parser
        self.executors = executors or Executors(config)
        self.now = now
        # front ends listen for outcome checks (to post them in the request's thread)
        self.outcome_listeners: list[outcomes.OutcomeListener] = []
        self.pending_checks: list[threading.Timer] = []
        self.metrics = metrics or Metrics()

    # ---- entry points -------------------------------------------------------------------------

    def handle(
        self,
        req: Request,
        progress: Progress | None = None,
        on_task: Callable[[Task], None] | None = None,
        task: Task | None = None,
    ) -> Reply:
        """Answer one message, in the asker's language. Never raises: a failure becomes an error Reply (and
        is logged). `on_task` sees the Task the message resolved to in its thread. A `task` given (a
        button that names one, like an alert's suggestion) is taken instead of parsing the text; it
        still goes through binding, policy and approval like any other."""
        seen: list[Task] = []

        def resolved(task: Task) -> None:
            seen.append(task)
            if on_task is not None:
                on_task(task)

        with use_language(self.language(req)), request_context(req.id):
            try:
                self.store.record_request(req)
                reply = self._handle(req, progress or (lambda text: None), resolved, task)
                note = llm_note(seen[-1] if seen else None)
                if note and reply.kind != "ignored":
                    reply.text = f"{reply.text}\n{note}" if reply.text else note
            except Exception as e:  # the user always gets an answer, whatever broke
                log.exception("request %s failed", req.id)
                reply = Reply.error(
                    _(
                        "Something went wrong on my side ({error}); nothing more was run. "
                        "The error is logged; try again or ask an admin."
                    ).format(error=f"{type(e).__name__}: {e}")
                )
        reply = self._recorded(req, reply)
        intent = seen[-1].intent if seen else None
        known = intent if intent in self.rules.intents() else None
        self.metrics.request(req.frontend, known, reply.kind)
        with request_context(req.id):  # one line per request: a log collector finds it by request_id
            log.info(
                "answered %s from %s: %s -> %s",
                req.frontend, req.user, known or "no intent", reply.kind,
                extra={"frontend": req.frontend, "user": req.user, "intent": known, "outcome": reply.kind},
            )  # fmt: skip
        return reply

    def decide(self, approval_id: str, user: str, approve: bool, progress: Progress | None = None) -> Reply:
        """An approver's click (or console answer). Approving twice, or on two replicas at once, runs once.
        Never raises: a failure becomes an error Reply (and is logged)."""
        with use_language(self._approver_language(approval_id, user)), request_context(None):
            try:
                reply = self._decide(approval_id, user, approve, progress or (lambda text: None))
            except Exception as e:
                log.exception("deciding approval %s failed", approval_id)
                reply = Reply.error(
                    _(
                        "Something went wrong on my side ({error}). The error is logged; try again or ask an admin."
                    ).format(error=f"{type(e).__name__}: {e}"),
                    approval_id=approval_id,
                )
        return sanitize(reply)

    def _approver_language(self, approval_id: str, user: str) -> str:
        """An approver's `/lang`, else the language the request was asked in."""
        try:
            rec = self.store.get_approval(approval_id)
            asked = (rec and self.store.request_text(rec.request_id)) or ""
            return choose_language(asked, self.store.user_language(user))
        except Exception:  # deciding must not fail on choosing a language
            log.exception("choosing the language for approval %s failed", approval_id)
            return "en"

    def find_approval(self, ref: str, channel: str | None = None) -> tuple[str | None, str | None]:
        """(approval id, None) for what a person typed: a whole id, a unique prefix of at least 4 characters,
        or `last` (the newest pending one, in `channel` when given); else (None, why not)."""
        ref = ref.strip().lower()
        if ref == "last":
            rec = self.store.latest_pending_approval(self.now(), channel)
            return (rec.id, None) if rec else (None, _("No approval request is waiting."))
        if len(ref) < 4:
            return None, _("Give at least 4 characters of the approval id, or `last`.")
        found = self.store.find_approvals(ref)
        if not found:
            return None, _("There is no approval request {id}.").format(id=ref)
        if len(found) > 1:
            return None, _("More than one approval request starts with {id}; give more characters.").format(id=ref)
        return found[0].id, None

    def approver_refusal(self, approval_id: str, user: str) -> str | None:
        """Why `user` may not decide this approval (their own request, a missing role), before asking them."""
        rec = self.store.get_approval(approval_id)
        rule = self.rules.by_id.get(rec.rule_id) if rec else None
        return may_approve(self.config, user, rec.requester, rule) if rec and rule else None

    def set_language(self, user: str, choice: str) -> Reply:
        """`/lang zh|en|auto`: the language replies to `user` are in (auto: each message's own)."""
        choice = choice.strip().lower()
        if choice not in OVERRIDES:
            return Reply.error(_("Say `/lang zh`, `/lang en` or `/lang auto` (each message's own language)."))
        self.store.set_user_language(user, None if choice == "auto" else choice)
        with use_language(choice if choice != "auto" else current_language()):
            if choice == "auto":
                return Reply(text=_("From now on I will answer in the language of each message."), kind="info")
            return Reply(text=_("From now on I will answer you in English."), kind="info")

    def _decide(self, approval_id: str, user: str, approve: bool, progress: Progress) -> Reply:
        rec = self.store.get_approval(approval_id)
        if rec is None:
            return Reply.error(_("There is no approval request {id}.").format(id=approval_id))
        REQUEST_ID.set(rec.request_id)  # log lines name the request asked for; decide() resets it
        rule = self.rules.by_id.get(rec.rule_id)
        if rule is None:
            return Reply.error(
                _("The rule {rule} of this approval request no longer exists; ask again.").format(rule=rec.rule_id)
            )
        if rec.status != "pending":
            return Reply(text=self._decided_text(rec), kind="info", approval_id=approval_id)
        if rec.expires_at <= self.now():
            return Reply.error(
                _("This approval request expired at {time} UTC; ask again.").format(time=f"{rec.expires_at:%H:%M}"),
                approval_id=approval_id,
            )
        refusal = may_approve(self.config, user, rec.requester, rule)
        if refusal:
            self.store.audit(user, "approval.refused", {"approval": approval_id, "reason": refusal})
            return Reply.error(refusal, approval_id=approval_id)
        # What runs must be what was asked and approved: same rule, same hosts (the inventory or the
        # rules may have changed since the request).
        try:
            plan = self.engine.plan(Task(intent=rec.intent, params=rec.params, confidence=1.0, parser="approval"))
            changed = None
            if plan.rule.id != rec.rule_id:
                changed = _("it now falls under the rule {now}, not {then}").format(now=plan.rule.id, then=rec.rule_id)
            elif rec.targets is not None and [t.name for t in plan.action.targets] != rec.targets:
                changed = _("its hosts are now {now}, not {then}").format(
                    now=", ".join(t.name for t in plan.action.targets), then=", ".join(rec.targets)
                )
        except (BindError, MissingParams, PlanError) as e:
            changed = _("it no longer fits the rules: {problem}").format(problem=e)
        if changed and approve:
            self.store.audit(user, "approval.stale", {"approval": approval_id, "reason": changed})
            return Reply.error(
                _("The request changed since it was asked ({change}); nothing was run. Ask again.").format(
                    change=changed
                ),
                approval_id=approval_id,
            )
        if not self.store.decide_approval(approval_id, user, approve, self.now()):
            decided = self.store.get_approval(approval_id) or rec  # someone else decided it meanwhile
            return Reply(text=self._decided_text(decided), kind="info", approval_id=approval_id)
        self.metrics.decided(approve, (self.now() - rec.created_at).total_seconds())
        self.store.audit(
            user,
            "approval.approved" if approve else "approval.denied",
            {"approval": approval_id, "rule": rule.id, "requester": rec.requester},
        )
        if not approve:
            return Reply(
                text=_("{approver} denied: {what} (asked by {requester}); nothing was run.").format(
                    approver=user, what=self._approval_line(rec), requester=rec.requester
                ),
                kind="info",
                approval_id=approval_id,
                decided=True,
            )
        if not self.store.claim_approved(approval_id):
            return Reply(text=_("Already run."), kind="info", approval_id=approval_id)
        reply = self._execute(plan, rec.requester, rec.request_id, progress)
        reply.text = _("Approved by {approver}.").format(approver=user) + " " + reply.text
        reply.approval_id = approval_id
        reply.request_id = rec.request_id
        reply.decided = True
        return reply

    def _check_hint(self, rec: ApprovalRecord) -> str:
        """How to see what an interrupted change did: the rule's read-only `check_with`, as a request."""
        # a conditional rule (service.restart on db hosts) may leave check_with to its intent's fallback
        rules = [self.rules.by_id[rec.rule_id]] if rec.rule_id in self.rules.by_id else []
        check_with = next((r.check_with for r in rules + self.rules.by_intent.get(rec.intent, []) if r.check_with), "")
        checks = self.rules.by_intent.get(check_with, [])
        for check in checks:
            for example in check.examples.en:
                try:
                    text = example.format(**{k: v for k, v in rec.params.items() if v is not None})
                except (KeyError, IndexError, ValueError):
                    continue
                return _("Check with `{request}`").format(request=text)
        return _("Check on the hosts")

    def vote(self, request_id: str, user: str, up: bool) -> None:
        self.store.add_feedback(request_id, user, vote=1 if up else -1)

    def check_correction(self, intent: str | None, params: dict[str, Any]) -> str | None:
        """Why a correction (what a request should have parsed to) is not valid against the rules and the
        inventory, as one sentence; None when it is."""
        if intent is None:
            return None if not params else _("A correction without an intent takes no params.")
        rule = self.rules.primary(intent)
        if rule is None:
            return _("There is no intent {intent}; say `help` for the list.").format(intent=intent)
        unknown = sorted(set(params) - set(rule.params))
        if unknown:
            return _("{intent} has no parameter {names} (it takes: {known}).").format(
                intent=intent, names=", ".join(unknown), known=", ".join(rule.params) or _("none")
            )
        try:
            self.engine.plan(Task(intent=intent, params=params, confidence=1.0, parser="correction"))
        except MissingParams as e:
            return _("{intent} needs {names}.").format(intent=intent, names=", ".join(e.names))
        except (BindError, PlanError) as e:
            return str(e)
        return None

    def correct(self, request_id: str, user: str, intent: str | None, params: dict[str, Any]) -> Reply:
        """A user's statement of what a request should have parsed to; stored for tuning once it is valid
        (intent, params and inventory names all checked at once); nothing invalid is stored."""
        problem = self.check_correction(intent, params)
        if problem:
            return Reply.error(_("Not stored: {problem}").format(problem=problem))
        self.store.add_feedback(request_id, user, correction={"intent": intent, "params": params})
        return Reply(
            text=_("Thanks, the correction is stored and will be used by the next `opsbot tune`."), kind="info"
        )

    # ---- the flow -----------------------------------------------------------------------------

    def language(self, req: Request) -> str:
        """The reply language: the asker's `/lang` choice, else the message's own (an answer made of names
        only, like "web-1", continues the conversation's language)."""
        inv = self.config.inventory
        names = [*inv.hosts, *inv.groups(), *inv.services(), *inv.deployments]
        try:
            stored = self.store.load_conversation(req.conversation)
            chosen = self.store.user_language(req.user)
        except Exception:  # the store is down: the message's own language, and an answer still
            log.exception("reading the language settings for %s failed", req.id)
            stored, chosen = Conversation(), None
        fallback = (stored.pending and stored.pending.lang) or (stored.last and stored.last.lang) or "en"
        return choose_language(req.text, chosen, names, fallback)

    def _handle(
        self, req: Request, progress: Progress, on_task: Callable[[Task], None], given: Task | None = None
    ) -> Reply:
        if len(req.text) > MAX_CHARS:
            return Reply.error(
                _(
                    "That message is {length} characters long; I take requests of up to {limit}. "
                    "To search logs for a long text, quote its distinctive part. Nothing was run."
                ).format(length=len(req.text), limit=MAX_CHARS)
            )
        stored = self.store.load_conversation(req.conversation)
        now = self.now()
        open_question = stored.pending if stored.pending and stored.pending.fresh(now, QUESTION_TTL) else None
        pending = open_question if open_question and open_question.asked == req.user else None
        # A question put to someone else stays open for them; this message neither answers nor clears it.
        others = open_question if open_question is not pending else None
        last = stored.last if stored.last and stored.last.fresh(now, FOLLOW_UP_TTL) else None
        started = time.perf_counter()
        task = given or self._resolve(req, last.task() if last else None, pending, now)
        self.store.record_task(req.id, task, (time.perf_counter() - started) * 1000)
        self.metrics.parsed(task.parser or "none", time.perf_counter() - started, task.usage)
        on_task(task)
        lang = current_language()

        if task.cancel:
            return self._cancel(req, task.cancel, last, others, now)
        if (
            not req.addressed
            and not pending
            and ((task.intent is None and not task.choices) or task.confidence < UNADDRESSED_MIN)
        ):
            return Reply(text="", kind="ignored")  # people talking in the thread, not to the bot
        if task.intent is None:
            if task.choices:
                # one open question per thread: someone else's stays until it is answered or lapses
                question = PendingQuestion(choices=task.choices, asked=req.user, at=now, lang=lang)
                self.store.save_conversation(req.conversation, Conversation(last=last, pending=others or question))
                return choices_question(task, self.rules, self.engine)
            if phrasing.cancels(req.text):
                return Reply(text=_("There is nothing to cancel."), kind="info")
            answered = self._from_runbooks(req, others, now, progress)
            return answered or self._not_understood(task)
        task = self._about_thread_alert(req, task)
        try:
            plan = self.engine.plan(task)
        except MissingParams as e:
            task.missing = e.names
            question = PendingQuestion(
                intent=task.intent, params=task.params, missing=e.names, asked=req.user, at=now, lang=lang
            )
            self.store.save_conversation(req.conversation, Conversation(last=last, pending=others or question))
            return question_for(task, e.names, self.rules, self.config)
        except BindError as e:
            return Reply.error(_("{problem} Nothing was run.").format(problem=e))
        except UnknownIntent:
            return self._not_understood(task)
        except PlanError as e:
            return Reply.error(_("I can't do that: {problem}. Nothing was run.").format(problem=e))

        self.store.save_conversation(
            req.conversation,
            Conversation(
                last=LastTask(intent=plan.rule.intent, params=plan.bound.values, at=now, lang=lang), pending=others
            ),
        )
        refusal = may_ask(self.config, req.user, plan.rule) or self._rate_limited(req.user, plan)
        if refusal:
            self.store.audit(req.user, "request.refused", {"request": req.id, "rule": plan.rule.id, "reason": refusal})
            return Reply.error(refusal)
        if plan.needs_approval:
            return self._ask_approval(req, plan)
        reply = self._execute(plan, req.user, req.id, progress)
        if reply.offers:
            self._offer(req, reply, plan, others, now)
        return reply

    def _from_runbooks(
        self, req: Request, others: PendingQuestion | None, now: datetime, progress: Progress
    ) -> Reply | None:
        """A message no rule fits may still be a question the runbooks answer ("the replica is falling
        behind"): their answer when they have a relevant section, else None (then "not sure")."""
        if not self.config.knowledge.sources or KB_INTENT not in self.rules.by_intent:
            return None
        try:
            plan = self.engine.plan(Task(intent=KB_INTENT, params={"question": req.text}, confidence=1.0, parser="kb"))
        except (BindError, MissingParams, PlanError, UnknownIntent):
            return None
        if plan.needs_approval or may_ask(self.config, req.user, plan.rule):
            return None
        reply = self._execute(plan, req.user, req.id, progress)
        if reply.kind != "result":  # nothing relevant: "not sure" says more than "nothing found"
            return None
        if reply.offers:
            self._offer(req, reply, plan, others, now)
        return reply

    def _offer(self, req: Request, reply: Reply, plan: Plan, others: PendingQuestion | None, now: datetime) -> None:
        """The actions a reply proposes (a runbook's steps) that fit a rule, as choices in the thread: a
        pick is then a request like any other (rules, policy, approval)."""
        offered = offered_choices(reply.offers, self._offline, self.engine, plan.rule.intent)
        reply.offers = []
        if not offered:
            return
        lang = current_language()
        question = PendingQuestion(choices=offered, asked=req.user, at=now, lang=lang, by_number=True)
        last = LastTask(intent=plan.rule.intent, params=plan.bound.values, at=now, lang=lang)
        self.store.save_conversation(req.conversation, Conversation(last=last, pending=others or question))
        labels = [choice_label(c, self.rules, self.engine, short=False) for c in offered]
        reply.text += "\n" + _("I can start these for you (each goes through the rules and, where needed, approval):")
        if len(labels) == 1:  # several are listed by the front end with the buttons
            reply.text += "\n" + _("1. {action} (say 1 or yes)").format(action=labels[0])
        reply.buttons = [Button(label=label, action="choose", value=str(i)) for i, label in enumerate(labels, 1)] + [
            b for b in reply.buttons if b.action != "choose"
        ]

    def _alert_acks(self) -> dict[tuple[str, str], str]:
        """Who took which firing alert (alerts.ack), by (alertname, host label), for alerts.list."""
        out: dict[tuple[str, str], str] = {}
        host_label = self.config.prometheus.host_label
        for group in self.store.recent_alert_groups(limit=200, status="firing"):
            if group.acked_by:
                for alert in group.alerts.values():
                    labels = alert.get("labels") or {}
                    out[(labels.get("alertname", ""), labels.get(host_label, ""))] = group.acked_by
        return out

    def _about_thread_alert(self, req: Request, task: Task) -> Task:
        """In an alert message's thread, "silence this for 2h" or "ack" is about that alert: a rule's
        `alert` param is filled from the thread unless the task names what it is about."""
        rule = self.rules.primary(task.intent) if task.intent else None
        if rule is None or "alert" not in rule.params or not req.thread:
            return task
        if any(task.params.get(k) for k in ("alert", "alertname", "host", "service", "silence")):
            return task
        group = self.store.alert_group_at(req.channel, req.thread)
        if group is None:
            return task
        return task.model_copy(update={"params": {**task.params, "alert": group.key}})

    def _resolve(self, req: Request, last: Task | None, pending: PendingQuestion | None, now: datetime) -> Task:
        """What a message means in its thread: a cancel, the answer to our question, a follow-up of the
        last task, or a request of its own."""
        if phrasing.cancels(req.text):
            if pending:
                return Task(intent=None, cancel="question", note="cancels the pending question")
            if self.store.pending_approval_of(req.user, req.channel, req.thread, now):
                return Task(intent=None, cancel="approval", note="cancels the asker's pending approval")
            return Task(intent=None, note="nothing to cancel")
        if pending and pending.choices:
            if phrasing.no(req.text):
                return Task(intent=None, cancel="question", note="none of the choices")
            if pending.by_number:
                n = phrasing.picked_number(req.text, len(pending.choices))
                if n is None and len(pending.choices) == 1 and phrasing.yes(req.text):
                    n = 0
                if n is None:
                    return self.parser.parse(req.text, previous=last)  # a new request: the offer lapses
                choice = pending.choices[n]
                return Task(intent=choice.intent, params=dict(choice.params), confidence=0.9, parser="choice")
            picked = pick_choice(self._offline, req.text, pending.choices, self._changes)
            if picked is not None:
                return picked
            # a new request: the question lapses
            return ask_unwritten(self.parser.parse(req.text, previous=last), req.text, last, self.rules)
        if pending:
            asked = pending.task()
            task = self.parser.parse(req.text, previous=asked)
            if task.intent in (None, asked.intent):
                task = self._answer_to_question(req.text, asked, task)
            return task
        return ask_unwritten(self.parser.parse(req.text, previous=last), req.text, last, self.rules)

    @property
    def _changes(self) -> set[str]:
        return {i for i, group in self.rules.by_intent.items() if any(r.changes_state for r in group)}

    @property
    def _offline(self) -> Parser:
        """The offline parser (choice answers are matched without an LLM call)."""
        offline: Parser | None = getattr(self.parser, "offline", None)
        return offline or self.parser

    def _cancel(
        self, req: Request, what: str, last: LastTask | None, others: PendingQuestion | None, now: datetime
    ) -> Reply:
        if what == "question":
            self.store.save_conversation(req.conversation, Conversation(last=last, pending=others))
            return Reply(text=_("OK, I dropped the question; nothing was run."), kind="info")
        rec = self.store.pending_approval_of(req.user, req.channel, req.thread, now)
        if rec is None or not self.store.decide_approval(rec.id, req.user, False, now):
            return Reply(text=_("There is nothing to cancel."), kind="info")
        self.store.audit(req.user, "approval.cancelled", {"approval": rec.id, "rule": rec.rule_id})
        return Reply(
            text=_("Cancelled: {what}. Nothing was run.").format(what=self._approval_line(rec)),
            kind="info",
            approval_id=rec.id,
            decided=True,
        )

    def _approval_line(self, rec: ApprovalRecord) -> str:
        """What an approval request asks for, in words ("Restart nginx on web-2")."""
        rule = self.rules.by_id.get(rec.rule_id)
        try:
            line = self.engine.reply_line(self.engine.plan(Task(intent=rec.intent, params=rec.params)))
        except (BindError, MissingParams, PlanError, UnknownIntent):
            line = None
        return line or (_(rule.summary) if rule else rec.intent)

    def _answer_to_question(self, text: str, pending: Task, parsed: Task) -> Task:
        """The message answers our clarifying question: merge it into the pending task. When the parser
        found nothing and exactly one param is missing, the whole text is that param (a pattern, a query)."""
        params = {**pending.params, **{k: v for k, v in parsed.params.items() if v is not None}}
        still = [m for m in pending.missing if m not in params]
        if len(still) == 1 and parsed.intent is None and not parsed.params:
            params[still[0]] = text.strip()
        return Task(
            intent=pending.intent,
            params=params,
            confidence=max(parsed.confidence, 0.9),
            parser=parsed.parser,
            usage=parsed.usage,
        )

    def _not_understood(self, task: Task) -> Reply:
        hints = [s.intent for s in task.suggestions[:3]]
        examples = []
        for intent in hints:
            rule = self.rules.primary(intent)
            if rule and rule.examples.en:
                zh = current_language() == "zh"
                example = (rule.examples.zh or rule.examples.en)[0] if zh else rule.examples.en[0]
                examples.append(_("`{example}` ({summary})").format(example=example, summary=_(rule.summary)))
        if examples:
            return Reply(
                text=_(
                    "I'm not sure what you want me to do. Did you mean {examples}? Say `help` for "
                    "everything I can do; nothing was run."
                ).format(examples=_("; or ").join(examples)),
                kind="info",
            )
        return Reply(
            text=_("I'm not sure what you want me to do. Say `help` for everything I can do; nothing was run."),
            kind="info",
        )

    def _rate_limited(self, user: str, plan: Plan) -> str | None:
        limit = plan.rule.policy.rate_limit
        if limit is None:
            return None
        since = self.now() - timedelta(seconds=parse_duration(limit.per))
        used = self.store.count_executions(user, plan.rule.id, since)
        if used >= limit.max:
            return _(
                "Rate limit: {intent} may run at most {max} times per {per} for each person, and you have "
                "used that; try again later or ask a colleague."
            ).format(intent=plan.rule.intent, max=limit.max, per=limit.per)
        return None

    def _ask_approval(self, req: Request, plan: Plan) -> Reply:
        ttl = plan.rule.policy.approval.ttl or self.config.approval_ttl
        expires = self.now() + timedelta(seconds=parse_duration(ttl))
        hosts = [t.name for t in plan.action.targets]
        rec = self.store.create_approval(
            req.id,
            plan.rule.id,
            plan.rule.intent,
            plan.bound.values,
            req.user,
            expires,
            channel=req.channel,
            thread=req.thread,
            targets=hosts,
        )
        self.store.audit(
            req.user,
            "approval.requested",
            {"approval": rec.id, "rule": plan.rule.id, "params": plan.bound.values, "request": req.id},
        )
        what = self.engine.reply_line(plan) or _(plan.rule.summary)
        if len(hosts) > 1:
            what += " " + _("({count} hosts: {hosts})").format(count=len(hosts), hosts=", ".join(hosts))
        roles = _(" or ").join(plan.rule.policy.approval.roles)
        return Reply(
            text=_(
                "{user} asks: {what}. This changes state, so someone else with the role {roles} must approve "
                "it before {time} UTC."
            ).format(user=req.user, what=what, roles=roles, time=f"{expires:%H:%M}"),
            kind="approval",
            approval_id=rec.id,
            buttons=[
                Button(label=_("Approve"), action="approve", value=rec.id, style="primary"),
                Button(label=_("Deny"), action="deny", value=rec.id, style="danger"),
            ],
        )

    def _execute(self, plan: Plan, user: str, request_id: str | None, progress: Progress) -> Reply:
        action = plan.action
        exec_id = self.store.start_execution(
            request_id, plan.rule.id, plan.rule.intent, action.executor, plan.bound.values, user
        )
        status = "ok"
        started = time.perf_counter()
        try:
            executor = self.executors.get(action.executor)
            ctx = ExecutionContext(
                config=self.config,
                progress=progress,
                capabilities=self.rules.capabilities,
                # a digest's parts are audited as whoever asked for the digest
                run_intent=lambda intent: self._run_unattended(intent, None, user),
                user=user,
                history=self.store.past_runs,
                acks=self._alert_acks,
                alert_groups=self.store,
            )
            with heartbeat(lambda: self.store.heartbeat_execution(exec_id), HEARTBEAT_SECONDS):
                reply = executor.run(action, ctx)
            if reply.kind == "error":
                status = "failed"
        except ExecutorUnavailable as e:
            status, reply = (
                "refused",
                Reply.error(_("I can't run this yet: {problem}. Nothing was run.").format(problem=e)),
            )
        except Exception as e:
            log.exception("executor %s failed", action.executor)
            status, reply = (
                "failed",
                Reply.error(
                    _("The {executor} executor failed: {error}").format(
                        executor=action.executor, error=f"{type(e).__name__}: {e}"
                    )
                ),
            )
        self.metrics.executed(action.executor, status, time.perf_counter() - started)
        self.store.finish_execution(exec_id, status, reply.text[:500])
        if status == "ok" and plan.rule.check is not None:
            self._schedule_check(plan, exec_id, request_id)
        heading = self.engine.reply_line(plan)
        if heading and reply.kind != "error":
            reply.text = f"*{heading}*\n{reply.text}"
        reply.ephemeral = reply.ephemeral or plan.rule.ephemeral
        if reply.kind == "result" and request_id:
            reply.buttons += [
                Button(label="👍", action="vote_up", value=request_id),
                Button(label="👎", action="vote_down", value=request_id),
            ]
        return reply

    def _schedule_check(self, plan: Plan, exec_id: str, request_id: str | None) -> None:
        check = plan.rule.check
        assert check is not None  # called only for rules with a check
        params = outcomes.check_params(check, self.rules, plan.bound.values)
        self.store.set_outcome(exec_id, "pending", None)
        self.store.audit(
            "opsbot", "check.scheduled", {"execution_id": exec_id, "intent": check.intent, "after": check.after}
        )
        self.pending_checks.append(
            outcomes.start_timer(outcomes.delay_of(check), lambda: self.run_check(exec_id, request_id, check, params))
        )

    def run_check(self, exec_id: str, request_id: str | None, check: OutcomeCheck, params: dict[str, Any]) -> str:
        """Run an outcome check now: store, audit and tell the listeners fixed / not_fixed / unknown."""
        asked = (self.store.request_text(request_id) if request_id else None) or ""
        with use_language(choose_language(asked, None)):
            try:
                reply = self._run_unattended(check.intent, params, "opsbot")
            except Exception as e:  # the store or an executor broke: the outcome is unknown, not lost
                log.exception("outcome check of %s failed", exec_id)
                reply = Reply.error(f"{type(e).__name__}: {e}")
            outcome, why = outcomes.judge(check, reply)
            text = outcomes.outcome_line(check, outcome, why)
        self.store.set_outcome(exec_id, outcome, why)
        self.store.audit("opsbot", "check.finished", {"execution_id": exec_id, "outcome": outcome, "why": why})
        event = outcomes.Outcome(exec_id, request_id, outcome, text)
        for listener in list(self.outcome_listeners):
            try:
                listener(event)
            except Exception:
                log.exception("telling an outcome listener about %s failed", exec_id)
        return outcome

    def run_scheduled(self, intent: str, params: dict[str, Any] | None = None, actor: str = "scheduler") -> Reply:
        """Run an intent nobody asked for in chat (a scheduled digest, `opsbot digest run`) as `actor`.
        Never raises: a failure becomes an error Reply (and is logged)."""
        try:
            reply = self._run_unattended(intent, params, actor)
        except Exception as e:  # the store is down, or the like: still an answer for the channel
            log.exception("scheduled %s failed", intent)
            reply = Reply.error(
                _("The scheduled {intent} failed on my side ({error}). The error is logged.").format(
                    intent=intent, error=f"{type(e).__name__}: {e}"
                )
            )
        return sanitize(reply)

    def _run_unattended(self, intent: str, params: dict[str, Any] | None = None, actor: str = "opsbot") -> Reply:
        """Plan and run an intent with nobody in the conversation: a schedule, or a part of a digest.
        What needs a parameter or an approval nobody can give here becomes an error Reply, so the rest
        of a digest still goes out."""
        try:
            plan = self.engine.plan(Task(intent=intent, params=params or {}, confidence=1.0, parser="unattended"))
        except MissingParams as e:
            return Reply.error(
                _("{intent} needs {names}, which a digest does not give it. Nothing was run.").format(
                    intent=intent, names=", ".join(e.names)
                )
            )
        except (BindError, PlanError) as e:
            return Reply.error(
                _("{intent} cannot run here: {problem}. Nothing was run.").format(intent=intent, problem=e)
            )
        if plan.needs_approval:
            self.store.audit(
                actor,
                "scheduled.refused",
                {"rule": plan.rule.id, "params": plan.bound.values, "reason": "needs approval"},
            )
            return Reply.error(
                _("{intent} needs approval and cannot run inside a digest. Nothing was run.").format(intent=intent)
            )
        return self._execute(plan, actor, None, lambda text: None)

    def run_for_alert(
        self, req: Request, intent: str, params: dict[str, Any], progress: Progress | None = None
    ) -> Reply:
        """A read-only intent an alert rule runs at once (a diagnosis). Stored like a typed request (its
        task's parser is "alert"), so votes on it count like any other; the params, which come from the
        alert's labels, are bound and validated like a typed request's. Never a change: those are only
        suggested. Never raises."""
        with use_language(self.language(req)):
            try:
                self.store.record_request(req)
                task = Task(intent=intent, params=params, confidence=1.0, parser="alert")
                self.store.record_task(req.id, task, 0.0)
                reply = self._alert_run(req, task, progress or (lambda text: None))
            except Exception as e:
                log.exception("the alert run %s failed", req.id)
                reply = Reply.error(
                    _("Something went wrong on my side ({error}); nothing more was run.").format(error=type(e).__name__)
                )
        return self._recorded(req, reply)

    def _recorded(self, req: Request, reply: Reply) -> Reply:
        """The reply as sent: tied to its request, sanitised, and stored (a store failure is logged; the
        person still gets the answer)."""
        reply.request_id = req.id
        reply = sanitize(reply)
        try:
            self.store.record_reply(req.id, reply)
        except Exception:
            log.exception("could not store the reply to %s", req.id)
        return reply

    def _alert_run(self, req: Request, task: Task, progress: Progress) -> Reply:
        try:
            plan = self.engine.plan(task)
        except MissingParams as e:
            return Reply.error(
                _("{intent} needs {names}, which the alert does not give. Nothing was run.").format(
                    intent=task.intent, names=", ".join(e.names)
                )
            )
        except (BindError, PlanError, UnknownIntent) as e:
            return Reply.error(
                _("{intent} cannot run for this alert: {problem} Nothing was run.").format(
                    intent=task.intent, problem=e
                )
            )
        if plan.rule.changes_state or plan.needs_approval:
            self.store.audit(req.user, "alert.refused", {"request": req.id, "rule": plan.rule.id})
            return Reply.error(
                _("{intent} changes state; an alert can only suggest it. Nothing was run.").format(intent=task.intent)
            )
        return self._execute(plan, req.user, req.id, progress)

    def _decided_text(self, rec: ApprovalRecord) -> str:
        if rec.status == "executed" and self.store.execution_status_of_request(rec.request_id) == "interrupted":
            return _(
                "Approved by {approver}, but opsbot stopped while it ran, so whether it took effect is unknown. "
                "{check} before asking again."
            ).format(approver=rec.approver, check=self._check_hint(rec))
        if rec.status in ("approved", "executed"):
            return _("Already approved by {approver}; it ran once.").format(approver=rec.approver)
        if rec.status == "denied":
            return _("Already denied by {approver}.").format(approver=rec.approver)
        if rec.status == "expired":
            return _("This approval request has expired.")
        return _("This approval request is {status}.").format(status=rec.status)
