"""Request -> Task -> rule -> policy -> (approval) -> executor -> Reply, with every step stored.
Front-end neutral: front ends call `handle`, `decide`, `vote` and `correct`, and render the Replies."""

from __future__ import annotations

import logging
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
from opsbot.pipeline.access import may_approve, may_ask
from opsbot.pipeline.clarify import question_for
from opsbot.pipeline.sanitize import sanitize
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine, Plan, PlanError, UnknownIntent
from opsbot.rules.loader import RuleSet
from opsbot.store import ApprovalRecord, Store

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
    ):
        self.config = config
        self.rules = rules
        self.engine = Engine(rules, config)
        self.store = store
        self.parser = parser
        self.executors = executors or Executors(config)
        self.now = now

    # ---- entry points -------------------------------------------------------------------------

    def handle(self, req: Request, progress: Progress | None = None) -> Reply:
        """Answer one message. Never raises: a failure becomes an error Reply (and is logged)."""
        try:
            self.store.record_request(req)
            reply = self._handle(req, progress or (lambda text: None))
        except Exception as e:  # the user always gets an answer, whatever broke
            log.exception("request %s failed", req.id)
            reply = Reply.error(
                f"Something went wrong on my side ({type(e).__name__}: {e}); nothing more was run. "
                "The error is logged; try again or ask an admin."
            )
        reply.request_id = req.id
        reply = sanitize(reply)
        try:
            self.store.record_reply(req.id, reply)
        except Exception:
            log.exception("could not store the reply to %s", req.id)
        return reply

    def decide(self, approval_id: str, user: str, approve: bool, progress: Progress | None = None) -> Reply:
        """An approver's click (or console answer). Approving twice, or on two replicas at once, runs once.
        Never raises: a failure becomes an error Reply (and is logged)."""
        try:
            reply = self._decide(approval_id, user, approve, progress or (lambda text: None))
        except Exception as e:
            log.exception("deciding approval %s failed", approval_id)
            reply = Reply.error(
                f"Something went wrong on my side ({type(e).__name__}: {e}). The error is logged; "
                "try again or ask an admin.",
                approval_id=approval_id,
            )
        return sanitize(reply)

    def _decide(self, approval_id: str, user: str, approve: bool, progress: Progress) -> Reply:
        rec = self.store.get_approval(approval_id)
        if rec is None:
            return Reply.error(f"There is no approval request {approval_id}.")
        rule = self.rules.by_id.get(rec.rule_id)
        if rule is None:
            return Reply.error(f"The rule {rec.rule_id} of this approval request no longer exists; ask again.")
        if rec.status != "pending":
            return Reply(text=self._decided_text(rec), kind="info", approval_id=approval_id)
        if rec.expires_at <= self.now():
            return Reply.error(
                f"This approval request expired at {rec.expires_at:%H:%M UTC}; ask again.", approval_id=approval_id
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
                changed = f"it now falls under the rule {plan.rule.id}, not {rec.rule_id}"
            elif rec.targets is not None and [t.name for t in plan.action.targets] != rec.targets:
                changed = (
                    f"its hosts are now {', '.join(t.name for t in plan.action.targets)}, not {', '.join(rec.targets)}"
                )
        except (BindError, MissingParams, PlanError) as e:
            changed = f"it no longer fits the rules: {e}"
        if changed and approve:
            self.store.audit(user, "approval.stale", {"approval": approval_id, "reason": changed})
            return Reply.error(
                f"The request changed since it was asked ({changed}); nothing was run. Ask again.",
                approval_id=approval_id,
            )
        if not self.store.decide_approval(approval_id, user, approve, self.now()):
            decided = self.store.get_approval(approval_id) or rec  # someone else decided it meanwhile
            return Reply(text=self._decided_text(decided), kind="info", approval_id=approval_id)
        self.store.audit(
            user,
            "approval.approved" if approve else "approval.denied",
            {"approval": approval_id, "rule": rule.id, "requester": rec.requester},
        )
        if not approve:
            return Reply(
                text=f"{user} denied: {rule.summary.lower()} for {rec.requester}; nothing was run.",
                kind="info",
                approval_id=approval_id,
                decided=True,
            )
        if not self.store.claim_approved(approval_id):
            return Reply(text="Already run.", kind="info", approval_id=approval_id)
        reply = self._execute(plan, rec.requester, rec.request_id, progress)
        reply.text = f"Approved by {user}. {reply.text}"
        reply.approval_id = approval_id
        reply.request_id = rec.request_id
        reply.decided = True
        return reply

    def vote(self, request_id: str, user: str, up: bool) -> None:
        self.store.add_feedback(request_id, user, vote=1 if up else -1)

    def correct(self, request_id: str, user: str, intent: str | None, params: dict[str, Any]) -> Reply:
        """A user's statement of what a request should have parsed to; stored for tuning."""
        if intent is not None and intent not in self.rules.by_intent:
            return Reply.error(f"There is no intent {intent!r}; see `help`.")
        self.store.add_feedback(request_id, user, correction={"intent": intent, "params": params})
        return Reply(text="Thanks, the correction is stored and will be used by the next `opsbot tune`.", kind="info")

    # ---- the flow -----------------------------------------------------------------------------

    def _handle(self, req: Request, progress: Progress) -> Reply:
        if len(req.text) > MAX_CHARS:
            return Reply.error(
                f"That message is {len(req.text)} characters long; I take requests of up to "
                f"{MAX_CHARS}. To search logs for a long text, quote its distinctive part. "
                "Nothing was run."
            )
        stored = self.store.load_conversation(req.conversation)
        now = self.now()
        open_question = stored.pending if stored.pending and stored.pending.fresh(now, QUESTION_TTL) else None
        pending = open_question if open_question and open_question.asked == req.user else None
        # A question put to someone else stays open for them; this message neither answers nor clears it.
        others = open_question if open_question is not pending else None
        last = stored.last if stored.last and stored.last.fresh(now, FOLLOW_UP_TTL) else None
        previous = pending.task() if pending else (last.task() if last else None)
        started = time.perf_counter()
        task = self.parser.parse(req.text, previous=previous)
        if pending and task.intent in (None, pending.intent):
            task = self._answer_to_question(req.text, pending.task(), task)
        self.store.record_task(req.id, task, (time.perf_counter() - started) * 1000)

        if not req.addressed and not pending and (task.intent is None or task.confidence < UNADDRESSED_MIN):
            return Reply(text="", kind="ignored")  # people talking in the thread, not to the bot
        if task.intent is None:
            return self._not_understood(task)
        try:
            plan = self.engine.plan(task)
        except MissingParams as e:
            task.missing = e.names
            question = PendingQuestion(intent=task.intent, params=task.params, missing=e.names, asked=req.user, at=now)
            self.store.save_conversation(req.conversation, Conversation(last=last, pending=question))
            return question_for(task, e.names, self.rules, self.config)
        except BindError as e:
            return Reply.error(f"{e} Nothing was run.")
        except UnknownIntent:
            return self._not_understood(task)
        except PlanError as e:
            return Reply.error(f"I can't do that: {e}. Nothing was run.")

        self.store.save_conversation(
            req.conversation,
            Conversation(last=LastTask(intent=plan.rule.intent, params=plan.bound.values, at=now), pending=others),
        )
        refusal = may_ask(self.config, req.user, plan.rule) or self._rate_limited(req.user, plan)
        if refusal:
            self.store.audit(req.user, "request.refused", {"request": req.id, "rule": plan.rule.id, "reason": refusal})
            return Reply.error(refusal)
        if plan.needs_approval:
            return self._ask_approval(req, plan)
        return self._execute(plan, req.user, req.id, progress)

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
                examples.append(f"`{rule.examples.en[0]}` ({rule.summary.lower()})")
        did = ("Did you mean " + "; or ".join(examples) + "? ") if examples else ""
        return Reply(
            text=f"I'm not sure what you want me to do. {did}Say `help` for everything I can do; nothing was run.",
            kind="info",
        )

    def _rate_limited(self, user: str, plan: Plan) -> str | None:
        limit = plan.rule.policy.rate_limit
        if limit is None:
            return None
        since = self.now() - timedelta(seconds=parse_duration(limit.per))
        used = self.store.count_executions(user, plan.rule.id, since)
        if used >= limit.max:
            return (
                f"Rate limit: {plan.rule.intent} may run at most {limit.max} times per {limit.per} for each person, "
                f"and you have used that; try again later or ask a colleague."
            )
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
        what = self.engine.reply_line(plan) or plan.rule.summary
        on = f" ({len(hosts)} hosts: {', '.join(hosts)})" if len(hosts) > 1 else ""
        roles = " or ".join(plan.rule.policy.approval.roles)
        return Reply(
            text=f"{req.user} asks: {what}{on}. This changes state, so someone else with the role {roles} "
            f"must approve it before {expires:%H:%M UTC}.",
            kind="approval",
            approval_id=rec.id,
            buttons=[
                Button(label="Approve", action="approve", value=rec.id, style="primary"),
                Button(label="Deny", action="deny", value=rec.id, style="danger"),
            ],
        )

    def _execute(self, plan: Plan, user: str, request_id: str | None, progress: Progress) -> Reply:
        action = plan.action
        exec_id = self.store.start_execution(
            request_id, plan.rule.id, plan.rule.intent, action.executor, plan.bound.values, user
        )
        status = "ok"
        try:
            executor = self.executors.get(action.executor)
            ctx = ExecutionContext(
                config=self.config,
                progress=progress,
                capabilities=self.rules.capabilities,
                # a digest's parts are audited as whoever asked for the digest
                run_intent=lambda intent: self._run_unattended(intent, None, user),
            )
            reply = executor.run(action, ctx)
            if reply.kind == "error":
                status = "failed"
        except ExecutorUnavailable as e:
            status, reply = "refused", Reply.error(f"I can't run this yet: {e}. Nothing was run.")
        except Exception as e:
            log.exception("executor %s failed", action.executor)
            status, reply = "failed", Reply.error(f"The {action.executor} executor failed: {type(e).__name__}: {e}")
        self.store.finish_execution(exec_id, status, reply.text[:500])
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

    def run_scheduled(self, intent: str, params: dict[str, Any] | None = None, actor: str = "scheduler") -> Reply:
        """Run an intent nobody asked for in chat (a scheduled digest, `opsbot digest run`) as `actor`.
        Never raises: a failure becomes an error Reply (and is logged)."""
        try:
            reply = self._run_unattended(intent, params, actor)
        except Exception as e:  # the store is down, or the like: still an answer for the channel
            log.exception("scheduled %s failed", intent)
            reply = Reply.error(
                f"The scheduled {intent} failed on my side ({type(e).__name__}: {e}). The error is logged."
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
                f"{intent} needs {', '.join(e.names)}, which a digest does not give it. Nothing was run."
            )
        except (BindError, PlanError) as e:
            return Reply.error(f"{intent} cannot run here: {e}. Nothing was run.")
        if plan.needs_approval:
            self.store.audit(
                actor,
                "scheduled.refused",
                {"rule": plan.rule.id, "params": plan.bound.values, "reason": "needs approval"},
            )
            return Reply.error(f"{intent} needs approval and cannot run inside a digest. Nothing was run.")
        return self._execute(plan, actor, None, lambda text: None)

    @staticmethod
    def _decided_text(rec: ApprovalRecord) -> str:
        if rec.status in ("approved", "executed"):
            return f"Already approved by {rec.approver}; it ran once."
        if rec.status == "denied":
            return f"Already denied by {rec.approver}."
        return f"This approval request is {rec.status}."
