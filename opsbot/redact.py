"""Keep secrets and floods out of chat: `redact` masks tokens, keys and passwords in text, `cap` cuts
text to a size with a note saying how much was cut. The pipeline applies both to every reply."""

from __future__ import annotations

import re
from typing import Any

from opsbot.i18n import _

MASK = "[REDACTED]"

# Each pattern replaces its whole match with MASK except the groups named `keep` and `end`, whose text
# stays (the key name in `password=...`, the scheme in `Authorization: Bearer ...`, PEM armour lines).
# A pattern runs only when one of its hint strings occurs in the (lower-cased) text: cheap substring
# checks keep a megabyte of command output from costing a dozen regex passes.
_PATTERNS: list[tuple[tuple[str, ...], re.Pattern[str]]] = [
    (hints, re.compile(p, f))
    for hints, p, f in [
        # PEM private key blocks (also a block cut short by a size cap: then up to the end of the text).
        (
            ("private key-----",),
            r"(?P<keep>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            0,
        ),
        # user:password@ in URLs (also redis://:password@): the user stays, the password goes.
        (("://",), r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]*:)[^\s/@]+(?=@)", 0),
        # Cookies, whole: `Cookie: session=…; csrftoken=…`, `Set-Cookie: …`.
        (("cookie",), r"(?P<keep>\b(?:set-)?cookie[\"']?\s*[:=]\s*)[^\r\n\"']+", re.I),
        # Command-line flags that take a secret: `--password Hunter3`, `--api-key=…`, `--db-token x`.
        (
            ("pass", "pwd", "secret", "token", "key", "credential"),
            r"(?P<keep>(?<![\w-])--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|pass|pwd|secret|token|api-?key|"
            r"access-?key|secret-?key|credentials?)(?:[ \t]+|=))(?!-)(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)",
            re.I,
        ),
        # Authorization headers (the scheme stays) and bare bearer tokens.
        (
            ("authorization",),
            r"(?P<keep>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?)"
            r"[^\s\"',;]+",
            re.I,
        ),
        (("bearer",), r"(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I),
        # Keys and tokens with well-known shapes, in one pass.
        (
            (
                "eyj",
                "sk-",
                "sk_",
                "rk_",
                "pk_",
                "xox",
                "xapp-",
                "akia",
                "asia",
                "agpa",
                "aida",
                "aroa",
                "aipa",
                "anpa",
                "anva",
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_",
                "github_pat_",
                "glpat-",
                "aiza",
            ),
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"  # JSON Web Tokens
            r"|\bsk-(?:[A-Za-z0-9_-]*-)?[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic (sk-ant-...)
            r"|\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
            r"|\bxox[abposre]-[A-Za-z0-9-]{8,}"  # Slack bot/user tokens
            r"|\bxapp-\d-[A-Za-z0-9-]{8,}"  # Slack app-level tokens
            r"|\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"  # AWS access key ids
            r"|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}"  # GitHub
            r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab
            r"|\bAIza[0-9A-Za-z_-]{35}",
            0,
        ),  # Google API keys
        # name=value / name: value pairs whose name ends in a secret-ish word (password=, db_passwd:,
        # "client_secret": "...", aws_secret_access_key = ..., X-Api-Key: ...). `max_tokens=5` is not one.
        (
            ("pass", "pwd", "secret", "token", "key", "credential"),
            r"(?P<keep>(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
            r"secret[_-]?key|credentials?)[\"']?[ \t]*[=:][ \t]*)(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'}]+)",
            re.I,
        ),
    ]
]


def _replace(match: re.Match[str]) -> str:
    groups = match.groupdict()
    return (groups.get("keep") or "") + MASK + (groups.get("end") or "")


def redact(text: str) -> str:
    """The text with secrets replaced by [REDACTED]; everything else unchanged."""
    if not text:
        return text
    lower = text.lower()
    for hints, pattern in _PATTERNS:
        if any(h in lower for h in hints):
            text = pattern.sub(_replace, text)
    return text


def redact_all(value: Any) -> Any:
    """`value` with every string inside it (dicts, lists, tuples) redacted; dict keys stay."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_all(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_all(v) for v in value)
    return value


def cap(text: str, limit: int) -> str:
    """At most `limit` characters: the head of the text and a note saying how many were cut.

    The cut prefers a line end close to the limit so output is not broken mid-line."""
    if len(text) <= limit:
        return text
    longest_note = len(_cut_note(len(text)))
    head = text[: max(0, limit - longest_note)]
    newline = head.rfind("\n")
    if newline >= len(head) * 0.8:
        head = head[:newline]
    return head + _cut_note(len(text) - len(head))


def _cut_note(cut: int) -> str:
    return "\n" + _("… ({count} more characters cut)").format(count=f"{cut:,}")
