"""Outcome checks: after a change ran, the rule's `check` (a read-only intent) runs after a delay and
says whether the change fixed the problem: `fixed` (its output shows what `expect` asks), `not_fixed`,
or `unknown` (the check itself could not run). The outcome is stored with the execution, audited, and
told to whoever listens (front ends post it in the request's thread); `opsbot tune` weighs examples by it."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsbot.core.durations import parse_duration
from opsbot.core.reply import Reply
from opsbot.i18n import N_, _
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import OutcomeCheck

log = logging.getLogger(__name__)

OUTCOMES = {"fixed": N_("fixed"), "not_fixed": N_("not fixed"), "unknown": N_("unknown")}


@dataclass(frozen=True)
class Outcome:
    execution_id: str
    request_id: str | None
    outcome: str  # fixed, not_fixed, unknown
    text: str  # the line for the thread, in the request's language


OutcomeListener = Callable[[Outcome], None]


def check_params(check: OutcomeCheck, rules: RuleSet, values: dict[str, Any]) -> dict[str, Any]:
    """The check's params: `check.params` maps each to one of the change's params; by default, the
    change's params the check's rule takes, by name."""
    rule = rules.primary(check.intent)
    if check.params is not None:
        return {name: values.get(source) for name, source in check.params.items() if values.get(source) is not None}
    return {k: v for k, v in values.items() if rule is not None and k in rule.params}


def judge(check: OutcomeCheck, reply: Reply) -> tuple[str, str]:
    """(outcome, why) from the check's reply."""
    if reply.kind == "error":
        return "unknown", reply.text.splitlines()[0][:200] if reply.text else ""
    lines = f"{reply.code or ''}\n{reply.text}".splitlines()
    if check.expect.matches is not None:
        hit = next((line for line in lines if re.search(check.expect.matches, line)), None)
        return ("fixed", hit.strip()) if hit is not None else ("not_fixed", (reply.code or reply.text)[:200])
    assert check.expect.absent is not None  # Expect takes exactly one
    hit = next((line for line in lines if re.search(check.expect.absent, line)), None)
    return ("not_fixed", hit.strip()) if hit is not None else ("fixed", "")


def outcome_line(check: OutcomeCheck, outcome: str, why: str) -> str:
    line = _("Check {after} after the change ({intent}): {outcome}.").format(
        after=check.after, intent=check.intent, outcome=_(OUTCOMES[outcome])
    )
    return f"{line} `{why}`" if why else line


def delay_of(check: OutcomeCheck) -> float:
    return float(parse_duration(check.after))


def start_timer(delay: float, run: Callable[[], object]) -> threading.Timer:
    """The check runs on its own thread after `delay` seconds (the reply does not wait for it)."""

    def guarded() -> None:
        try:
            run()
        except Exception:  # a failed check must not take a worker down; it is logged
            log.exception("an outcome check failed")

    timer = threading.Timer(delay, guarded)
    timer.daemon = True
    timer.start()
    return timer
