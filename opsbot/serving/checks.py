"""Release checks: the configured requests sent to a freshly deployed version, each with conditions on
the answer (status, latency, JSON shape, forbidden content such as a leaked secret or an echoed
injection canary). The answer is untrusted data: it is only searched, never rendered or run."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from opsbot.config.models import ReleaseCheck
from opsbot.i18n import _


@dataclass
class CheckResult:
    name: str
    ok: bool
    why: str  # one sentence: what failed, or what was seen
    seconds: float


def has_path(doc: Any, path: str) -> bool:
    """Whether the dotted `path` (list indexes as numbers) exists in `doc` with a non-empty value."""
    for part in path.split("."):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return False
    return doc not in (None, "", [], {})


def run_check(check: ReleaseCheck, base_url: str, timeout: float = 30.0) -> CheckResult:
    url = base_url.rstrip("/") + "/" + check.path.lstrip("/")
    started = time.perf_counter()
    try:
        r = requests.request(check.method, url, json=check.body if check.method == "POST" else None, timeout=timeout)
    except requests.RequestException as e:
        return CheckResult(
            check.name,
            False,
            _("no answer from {url} ({error}).").format(url=url, error=type(e).__name__),
            time.perf_counter() - started,
        )
    took = time.perf_counter() - started
    text = r.text
    if r.status_code != check.status:
        return CheckResult(
            check.name, False, _("status {got}, expected {want}.").format(got=r.status_code, want=check.status), took
        )
    if check.max_latency is not None and took > check.max_latency:
        return CheckResult(
            check.name,
            False,
            _("took {took:.2f}s, the limit is {limit:g}s.").format(took=took, limit=check.max_latency),
            took,
        )
    if check.json_has:
        try:
            doc = json.loads(text)
        except ValueError:
            return CheckResult(check.name, False, _("the answer is not JSON."), took)
        missing = [p for p in check.json_has if not has_path(doc, p)]
        if missing:
            return CheckResult(check.name, False, _("the answer lacks {paths}.").format(paths=", ".join(missing)), took)
    for word in check.forbid:
        if word and word in text:
            return CheckResult(
                check.name, False, _("the answer contains the forbidden text {text!r}.").format(text=word), took
            )
    for pattern in check.forbid_patterns:
        if re.search(pattern, text):
            return CheckResult(
                check.name,
                False,
                _("the answer matches the forbidden pattern {pattern!r}.").format(pattern=pattern),
                took,
            )
    return CheckResult(check.name, True, _("passed in {took:.2f}s.").format(took=took), took)


def run_checks(checks: list[ReleaseCheck], base_url: str, timeout: float = 30.0) -> list[CheckResult]:
    """Every check in order; all of them run even after a failure, so the reply says everything wrong."""
    return [run_check(c, base_url, timeout) for c in checks]
