"""Find the values in a message: inventory names (from the config, never hard-coded), durations, numbers,
quoted text, PromQL, versions and enum words (from the rules' `values` and `aliases`).

Every finding is a Mention: a span of the message and the kinds of value it could be (a name can be both
a group and a service). The parser later decides, per rule, which mention fills which parameter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from opsbot.core.durations import DAY, UNITS, format_duration, parse_duration
from opsbot.parsing.chinese import NUMERAL_CHARS, numeral_value
from opsbot.parsing.offline.lexicon import STOP, stem

if TYPE_CHECKING:
    from opsbot.config import Config
    from opsbot.rules.loader import RuleSet
    from opsbot.rules.schema import ParamSpec

# --------------------------------------------------------------------------------------------- mentions

Free = Callable[[int, int], bool]  # is text[a:b] not yet taken by another mention?


@dataclass
class Mention:
    start: int
    end: int
    options: list[tuple[str, Any]]  # (kind, value); kinds: host group service deployment duration
    #                                          integer version quote promql enum placeholder
    text: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def kinds(self) -> set[str]:
        return {k for k, _ in self.options}

    def value(self, kind: str) -> Any:
        return next((v for k, v in self.options if k == kind), None)


Take = Callable[[Mention], None]  # record a mention (and take its text)

PLACEHOLDER_OF_KIND = {
    "host": "<host>",
    "group": "<host>",
    "service": "<service>",
    "deployment": "<deployment>",
    "duration": "<duration>",
    "integer": "<integer>",
    "version": "<version>",
    "quote": "<text>",
    "promql": "<promql>",
}
PLACEHOLDER_OF_TYPE = {
    "host": "<host>",
    "group": "<host>",
    "service": "<service>",
    "deployment": "<deployment>",
    "duration": "<duration>",
    "integer": "<integer>",
    "version": "<version>",
    "text": "<text>",
    "promql": "<promql>",
}
KIND_OF_TYPE = {
    "host": {"host", "group"},
    "group": {"group"},
    "service": {"service"},
    "deployment": {"deployment"},
    "duration": {"duration"},
    "integer": {"integer"},
    "version": {"version"},
    "text": {"quote"},
    "promql": {"promql", "quote"},
}


def placeholder_for(name: str, spec: ParamSpec) -> str:
    """The token a `{name}` placeholder of a rule example becomes."""
    return f"<enum:{name}>" if spec.type == "enum" else PLACEHOLDER_OF_TYPE[spec.type]


def normalise_text(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation become ASCII (ｗｅｂ－１ -> web-1, ３ -> 3)."""
    return unicodedata.normalize("NFKC", text)


def name_key(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.lower())


# Letters typed for digits at the end of a name (web-l, web-I, db-O), read as the digits they look like.
HOMOGLYPHS = str.maketrans({"l": "1", "i": "1", "o": "0"})
HOMOGLYPH_END = re.compile(r"(?<=[a-z0-9])[lio0-9]*[lio][0-9]*$")


def _digits(s: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\d+", s))


# ---------------------------------------------------------------------------------------------- lexicon

GROUP_AFTER_EN = re.compile(
    r"^\s*(servers?|hosts?|nodes?|machines?|boxes|box|instances|group|cluster|fleet|"
    r"tier|pool|vms?|fleet)\b",
    re.I | re.A,
)
GROUP_BEFORE_EN = re.compile(
    r"\b(all|every|each|the whole|entire|whole|across)\s+(the\s+)?(of\s+the\s+)?$", re.I | re.A
)
GROUP_AFTER_ZH = re.compile(r"^\s*(服务器|主机|机器|节点|组|集群|机群)")
GROUP_BEFORE_ZH = re.compile(r"(所有|全部|整个|每台|各个)(的)?\s*$")
ON_BEFORE = re.compile(r"\b(on|at|from|for|of)\s+(the\s+)?$|[在上]\s*$", re.I | re.A)


class KnownNames:
    """The names and words a config and a rule set make known, indexed for fast lookup."""

    def __init__(self, config: Config, rules: RuleSet, vocabulary: Iterable[str] = ()):
        inv = config.inventory
        self.names: dict[str, list[tuple[str, str]]] = {}
        for kind, names in (
            ("host", list(inv.hosts)),
            ("group", list(inv.groups())),
            ("service", inv.services()),
            ("deployment", list(inv.deployments)),
        ):
            for n in names:
                k = name_key(n)
                if k and (kind, n) not in self.names.get(k, []):
                    self.names.setdefault(k, []).append((kind, n))
        self.keys = sorted(self.names)
        self._fuzzy: dict[str, list[tuple[str, str]]] = {}  # typo -> names, filled as messages come
        self.max_parts = 1 + max((len(re.findall(r"[-_.\s]", o[1])) for v in self.names.values() for o in v), default=0)
        self.vocabulary = set(vocabulary)  # English words of the rules' examples (not names)
        # enum words: word -> [(param, canonical)]
        self.enum_words: dict[str, list[tuple[str, str]]] = {}
        for rule in rules.rules:
            for pname, spec in rule.params.items():
                if spec.type != "enum":
                    continue
                for canon in spec.values:
                    for w in [canon, *list(spec.aliases.get(canon, []))]:
                        opt = (pname, canon)
                        lst = self.enum_words.setdefault(w.lower(), [])
                        if opt not in lst:
                            lst.append(opt)
        self.enum_cjk = sorted((w for w in self.enum_words if re.search(r"[^\x00-\x7f]", w)), key=len, reverse=True)
        self.enum_ascii = sorted(w for w in self.enum_words if not re.search(r"[^\x00-\x7f]", w))

    def lookup_name(self, token: str, fuzzy: bool) -> list[tuple[str, str]]:
        k = name_key(token)
        if not k:
            return []
        if k in self.names:
            return self.names[k]
        if (
            not fuzzy
            or len(k) < 3
            or token.lower() in STOP
            or token.lower() in self.vocabulary
            or stem(token) in self.vocabulary
        ):
            return []
        if k in self._fuzzy:
            return self._fuzzy[k]
        found = self._correct(k) if len(k) >= 4 else self._homoglyphs(k)
        if len(self._fuzzy) > 20000:
            self._fuzzy.clear()
        self._fuzzy[k] = found
        return found

    def _correct(self, k: str) -> list[tuple[str, str]]:
        """The name a typo most likely meant. Never a group: a correction must not change how many hosts
        a request touches (web-l is web-1 misread, not the group web)."""
        glyphs = self._homoglyphs(k)
        if glyphs:
            return glyphs
        digits = _digits(k)
        limit = 1 if len(k) <= 6 else 2
        close = [
            (key, d)
            for key, d, _ in process.extract(k, self.keys, scorer=OSA.distance, score_cutoff=limit, limit=None)
            if _digits(key) == digits
        ]
        found: list[tuple[str, str]] = []
        if close:
            best = min(d for _, d in close)
            top = [key for key, d in close if d == best]
            if len(top) == 1:  # a tie between two names is no answer
                found = self.names[top[0]]
        if not found and len(k) >= 5 and not digits:  # a unique prefix: postgres -> postgresql
            hits = [key for key in self.keys if key.startswith(k) and not _digits(key)]
            if len(hits) == 1:
                found = self.names[hits[0]]
        return [o for o in found if o[0] != "group"]

    def _homoglyphs(self, k: str) -> list[tuple[str, str]]:
        """web-l / web-I / db-O: letters typed for the digits they look like, at the end of a name."""
        glyphs = HOMOGLYPH_END.sub(lambda m: m.group(0).translate(HOMOGLYPHS), k)
        if glyphs != k and glyphs in self.names:
            return [o for o in self.names[glyphs] if o[0] != "group"]
        return []

    def is_exact(self, token: str) -> bool:
        """Whether `token` names something as written (no correction)."""
        return name_key(token) in self.names


# ------------------------------------------------------------------------------------------- patterns

QUOTES = [
    (re.compile(r"`([^`]+)`"), True),
    (re.compile(r"“([^”]+)”"), False),
    (re.compile(r"‘([^’]+)’"), False),
    (re.compile(r"「([^」]+)」"), False),
    (re.compile(r"『([^』]+)』"), False),
    (re.compile(r'"([^"]+)"'), False),
    (re.compile(r"(?<![\w])'([^']+)'(?![\w])", re.A), False),
]
SHELLISH = re.compile(
    r"(^|\s)(rm|sudo|kill|pkill|killall|dd|mkfs|chmod|chown|shutdown|reboot|curl|wget|drop|"
    r"delete|truncate)\b|\s-{1,2}[a-z]|&&|;\s*\w|^\s*/",
    re.I | re.A,
)
PROMQLISH = re.compile(r"[A-Za-z_:][\w:]*\s*[\(\{\[]|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", re.A)
PROMQL_START = re.compile(r"(?<![\w`'\"-])([a-zA-Z_:][\w:]*)(?:\s+(?:by|without)\s*(?=\())?(?=[\(\{\[])", re.A)
PROMQL_METRIC = re.compile(r"(?<![\w`'\"-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\{[^}]*\})?(?:\[\w+\])?(?![\w-])", re.A)
PROMQL_JOIN = re.compile(
    r"\s*(?:[-+*/%^]|[<>=!]=|[<>]|==|\bbool\b)\s*(?=[\w(])"
    r"|\s+(?:and|or|unless)\s+(?=\(|[a-zA-Z_:][\w:]*[({\[]|[a-z][a-z0-9]*_)"
    r"|\s*\b(?:on|ignoring|group_left|group_right)\s*(?=\()"
    r"|\s+offset\s+(?=\d+[smhdwy]\b)",
    re.A,
)


def looks_promql(s: str) -> bool:
    return bool(PROMQLISH.search(s)) and not SHELLISH.search(s)


EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "a": 1,
    "an": 1,
    "couple": 2,
    "a couple": 2,
    "a couple of": 2,
    "couple of": 2,
    "zero": 0,
    "none": 0,
}
UNIT_SECONDS = [
    (r"seconds?|secs?", 1),
    (r"minutes?|mins?", 60),
    (r"hours?|hrs?", 3600),
    (r"days?", 86400),
    (r"weeks?|wks?", 604800),
    (r"fortnights?", 1209600),
    (r"months?", 2592000),
    (r"years?|yrs?", 31536000),
]
_UNIT_WORD = "|".join(u for u, _ in UNIT_SECONDS)
_NUM_WORD = (
    r"\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"eighteen|twenty|thirty|forty|fifty|sixty|ninety|(?:a\s+)?couple(?:\s+of)?"
)
DUR_WORDS = re.compile(rf"\b({_NUM_WORD})\s*-?\s*({_UNIT_WORD})\b(\s+and\s+a\s+half\b)?", re.I | re.A)
DUR_SHORT = re.compile(r"(?<![\w.])((?:\d+(?:\.\d+)?\s?(?:mo|[smhdwy])){1,3})(?![\w.])", re.I | re.A)
DUR_HALF = re.compile(rf"\bhalf\s+(?:an?\s+)?({_UNIT_WORD})\b|\b(?:an?\s+)?half[\s-]+({_UNIT_WORD})\b", re.I | re.A)
DUR_BARE = re.compile(
    r"\b(last|past|previous|next|coming|upcoming|following|this|the|an?|within)\s+"
    r"(hour|day|week|month|year|minute|fortnight)\b",
    re.I | re.A,
)
TIME_BEFORE = re.compile(
    r"\b(last|past|previous|next|coming|over|for|in|within|during|every|after|since)\s+(the\s+)?$", re.I | re.A
)
DUR_TODAY = re.compile(r"\b(today|so far today|since yesterday)\b", re.I | re.A)
ZH_NUM = rf"\d+(?:\.\d+)?|[{NUMERAL_CHARS}]+"
ZH_UNITS = [
    ("秒钟", 1),
    ("秒", 1),
    ("分钟", 60),
    ("分(?![析布配区片组享类])", 60),
    ("个?小时", 3600),
    ("个?钟头", 3600),
    ("天", 86400),
    ("日(?!志)", 86400),
    ("个?星期", 604800),
    ("个?礼拜", 604800),
    ("周", 604800),
    ("个月", 2592000),
    ("年", 31536000),
]
_ZH_UNIT = "|".join(f"(?:{u})" for u, _ in ZH_UNITS)
DUR_ZH = re.compile(rf"({ZH_NUM})\s*(个)?\s*(半)?\s*({_ZH_UNIT})(半)?")
DUR_ZH_HALF = re.compile(r"半\s*(个)?\s*(小时|钟头|天|分钟)")
DUR_ZH_TODAY = re.compile(r"今天|今日|本周|这周|这个星期|这一周")
FUTURE_BEFORE_EN = re.compile(
    r"\b(next|coming|upcoming|following|ahead|within the next|in the next)\s+(\w+\s+){0,2}$"
    r"|\bin\s+$",
    re.I | re.A,
)
FUTURE_AFTER_EN = re.compile(r"^\s*(from now|ahead|out|later|into the future)\b", re.I | re.A)
FUTURE_BEFORE_ZH = re.compile(r"(未来|接下来|今后|往后|将来|之后的|以后的|后面的|下)\s*的?\s*$")
FUTURE_AFTER_ZH = re.compile(r"^\s*(后|之后|以后)")

VERSION_RES = [
    re.compile(r"(?<![\w.-])v\d+(?:\.\d+)*(?:[-+][0-9a-z][0-9a-z.]*)?(?![\w-])", re.I | re.A),
    re.compile(r"(?<![\w.-])\d{4}-\d{2}-\d{2}(?:[-T.][0-9a-z.]+)?(?![\w-])", re.I | re.A),
    re.compile(r"(?<![\w.-])\d+\.\d+(?:\.\d+)*(?:[-+][0-9a-z][0-9a-z.]*)?(?![\w-])", re.I | re.A),
]
VERSION_WORD = re.compile(
    r"\b(?:version|ver|release|tag|build|revision|rev)\s+([A-Za-z0-9][\w.+-]*)|"
    r"版本\s*(?:号)?\s*(?:为|是)?\s*([A-Za-z0-9][\w.+-]*)",
    re.I | re.A,
)
NUMBER = re.compile(r"(?<![\w.-])\d+(?![\w.])", re.A)
ZH_NUMBER = re.compile(rf"[{NUMERAL_CHARS}]+")
ZH_NUM_AFTER_OK = re.compile(r"^\s*(个|台|份|只|副本|实例|节点|份|路|套|pod|replica)", re.I)
ZH_NUM_BEFORE_OK = re.compile(r"(到|为|成|至|是|开|加|减)\s*$")
EN_NUM_WORD = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|zero)\b", re.I | re.A)
EN_NUM_CONTEXT_AFTER = re.compile(r"^\s*(replicas?|copies|instances?|pods?|workers?|nodes?|gpus?)\b", re.I | re.A)
EN_NUM_CONTEXT_BEFORE = re.compile(r"\b(to|at|with|run|of)\s+$", re.I | re.A)
NAME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z0-9]")
WORD = re.compile(r"[A-Za-z]+")


def _seconds_of_unit(unit: str) -> int:
    for rx, secs in UNIT_SECONDS:
        if re.fullmatch(rx, unit, re.I):
            return secs
    raise ValueError(unit)


def _zh_unit_seconds(unit: str) -> int:
    for rx, secs in ZH_UNITS:
        if re.fullmatch(rx, unit):
            return secs
    raise ValueError(unit)


def _en_number(word: str) -> float | None:
    w = re.sub(r"\s+", " ", word.lower().strip())
    try:
        return float(w)
    except ValueError:
        return EN_NUMBERS.get(w)


MONTH = 30 * DAY


def _dur(seconds: float) -> str | None:
    s = round(seconds)
    return format_duration(s) if s > 0 else None


# ------------------------------------------------------------------------------------------- extractor


class Extraction:
    """The mentions found in one text, in order, with the text they were found in."""

    def __init__(self, text: str, mentions: list[Mention]):
        self.text = text
        self.mentions = sorted(mentions, key=lambda m: (m.start, m.end))

    def of_kind(self, kind: str) -> list[Mention]:
        return [m for m in self.mentions if kind in m.kinds()]

    def span_mentions(self) -> list[Mention]:
        """Mentions that stand for their text (enum words are overlays: their word stays in the text)."""
        return [m for m in self.mentions if not m.meta.get("overlay")]


def extract(text: str, names: KnownNames, placeholders: dict[str, Any] | None = None) -> Extraction:
    """All the mentions in `text`. With `placeholders` (param name -> ParamSpec), `{name}` in the text is a
    placeholder for that param (how rule examples are read)."""
    taken = [False] * len(text)
    found: list[Mention] = []
    low = text.lower()

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(m: Mention) -> None:
        found.append(m)
        if not m.meta.get("overlay"):
            for i in range(m.start, m.end):
                taken[i] = True

    if placeholders is not None:
        for mt in re.finditer(r"\{(\w+)\}", text):
            spec = placeholders.get(mt.group(1))
            if spec is not None:
                take(Mention(mt.start(), mt.end(), [("placeholder", placeholder_for(mt.group(1), spec))], mt.group(0)))

    # quoted text: `…` first, then unquoted PromQL (rate(x[5m]), sum by (job) (...), node_load1,
    # up{job="x"}), then '…', "…", “…”, 「…」
    for rx, backtick in QUOTES[:1]:
        _quotes(rx, backtick, text, free, take)
    _promql(text, names, free, take)
    for rx, backtick in QUOTES[1:]:
        _quotes(rx, backtick, text, free, take)

    # inventory names, longest first; tolerant of case, hyphens and small typos
    _names(text, names, free, take)

    # durations
    _durations(text, low, free, take)

    # versions
    for rx in VERSION_RES:
        for mt in rx.finditer(text):
            if free(mt.start(), mt.end()):
                take(Mention(mt.start(), mt.end(), [("version", mt.group(0))], mt.group(0)))
    for mt in VERSION_WORD.finditer(text):
        g = 1 if mt.group(1) else 2
        a, b = mt.start(g), mt.end(g)
        val = mt.group(g)
        if free(a, b) and val.lower() not in STOP and (re.search(r"\d", val) or val.lower() in ("latest", "stable")):
            take(Mention(a, b, [("version", val)], val))

    # numbers
    for mt in NUMBER.finditer(text):
        if free(mt.start(), mt.end()):
            take(Mention(mt.start(), mt.end(), [("integer", int(mt.group(0)))], mt.group(0)))
    for mt in ZH_NUMBER.finditer(text):
        if not free(mt.start(), mt.end()):
            continue
        after, before = text[mt.end() :], text[: mt.start()]
        if ZH_NUM_AFTER_OK.match(after) or ZH_NUM_BEFORE_OK.search(before):
            v = numeral_value(mt.group(0))
            if v is not None:
                take(Mention(mt.start(), mt.end(), [("integer", v)], mt.group(0)))
    for mt in EN_NUM_WORD.finditer(text):
        if not free(mt.start(), mt.end()):
            continue
        if EN_NUM_CONTEXT_AFTER.match(text[mt.end() :]) or EN_NUM_CONTEXT_BEFORE.search(text[: mt.start()]):
            take(Mention(mt.start(), mt.end(), [("integer", int(EN_NUMBERS[mt.group(0).lower()]))], mt.group(0)))

    # a host-shaped name the inventory does not know ("top processes on web-9"): kept as typed, so the rule
    # engine can answer "I don't know the host web-9" instead of asking which host was meant
    if not any(m.kinds() & {"host", "group"} for m in found):
        _unknown_host(text, names, free, take)

    # enum words (overlays: the word stays in the text for the intent match)
    _enums(text, low, names, free, take)
    ex = Extraction(text, found)
    merge_durations(ex)
    return ex


def _quotes(rx: re.Pattern[str], backtick: bool, text: str, free: Free, take: Take) -> None:
    for mt in rx.finditer(text):
        if not free(mt.start(), mt.end()) or not mt.group(1).strip():
            continue
        inner = mt.group(1).strip()
        opts: list[tuple[str, Any]] = [("quote", inner)]
        if looks_promql(inner) or (backtick and not SHELLISH.search(inner)):
            opts.append(("promql", inner))
        take(Mention(mt.start(), mt.end(), opts, mt.group(0), {"backtick": backtick, "inner": inner}))


def _promql(text: str, names: KnownNames, free: Free, take: Take) -> None:
    for mt in PROMQL_START.finditer(text):
        a = mt.start()
        if not free(a, mt.end()) or names.lookup_name(mt.group(1), fuzzy=False):
            continue
        end = _scan_expr(text, a)
        if end is None or not free(a, end):
            continue
        expr = text[a:end].strip()
        take(Mention(a, end, [("promql", expr), ("quote", expr)], expr, {"backtick": False, "inner": expr}))
    for mt in PROMQL_METRIC.finditer(text):
        if free(mt.start(), mt.end()) and not names.lookup_name(mt.group(0), fuzzy=False):
            end = _scan_expr(text, mt.start()) or mt.end()
            if not free(mt.start(), end):
                end = mt.end()
            expr = text[mt.start() : end].strip()
            take(
                Mention(mt.start(), end, [("promql", expr), ("quote", expr)], expr, {"backtick": False, "inner": expr})
            )


OPERAND = re.compile(r"[a-zA-Z_:][\w:]*|\d+(?:\.\d+)?|\(", re.A)
BY_CLAUSE = re.compile(r"\s*\b(?:by|without)\s*(?=\()", re.A)


def _scan_expr(text: str, i: int) -> int | None:
    """End of a PromQL-looking expression starting at i: operands (identifiers, numbers, bracket groups,
    `by (...)` clauses) joined by binary operators."""
    n, end = len(text), None
    while i < n:
        m = OPERAND.match(text, i)
        if not m:
            break
        if text[i] == "(":
            close = _balanced(text, i)
            if close is None:
                break
            i = close
        else:
            i = m.end()
        while i < n:
            if text[i] in "({[":
                close = _balanced(text, i)
                if close is None:
                    return end
                i = close
                continue
            by = BY_CLAUSE.match(text, i)
            if by:
                i = by.end()
                continue
            if re.match(r"\s+\(", text[i:]) and text[i - 1] == ")":
                i = text.index("(", i)  # sum by (job) (rate(...))
                continue
            break
        end = i
        j = PROMQL_JOIN.match(text, i)
        if not j:
            break
        i = j.end()
    return end


def _balanced(text: str, i: int) -> int | None:
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack: list[str] = []
    quote = None
    for k in range(i, len(text)):
        c = text[k]
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "\"'" and stack and stack[-1] == "}":
            quote = c
        elif c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return k + 1
        elif c in ")}]":
            return None
    return None


def _names(text: str, names: KnownNames, free: Free, take: Take) -> None:
    toks = [(m.start(), m.end(), m.group(0)) for m in NAME_TOKEN.finditer(text)]
    i = 0
    while i < len(toks):
        hit = None
        for n in range(min(names.max_parts + 1, 4, len(toks) - i), 0, -1):
            a, b = toks[i][0], toks[i + n - 1][1]
            if not free(a, b):
                continue
            if n > 1 and any(
                not re.fullmatch(r"[\s\-_.]{1,2}", text[toks[j][1] : toks[j + 1][0]]) for j in range(i, i + n - 1)
            ):
                continue
            opts = names.lookup_name(text[a:b], fuzzy=(n == 1))
            if not opts and n == 1:  # "web-1's" / trailing dots are not part of the name
                stripped = re.sub(r"[._-]+$", "", text[a:b])
                if stripped != text[a:b]:
                    b = a + len(stripped)
                    opts = names.lookup_name(stripped, fuzzy=True)
            if opts:
                hit = (a, b, n, opts)
                break
        if hit is None:
            i += 1
            continue
        a, b, n, opts = hit
        raw = text[a:b]
        before, after = text[max(0, a - 60) : a], text[b : b + 60]  # the words around a name, not the whole text
        strong_group = bool(
            GROUP_AFTER_EN.match(after)
            or GROUP_BEFORE_EN.search(before)
            or GROUP_AFTER_ZH.match(after)
            or GROUP_BEFORE_ZH.search(before)
        )
        wordlike = raw.lower() in names.vocabulary or stem(raw) in names.vocabulary
        kinds = {k for k, _ in opts}
        meta = {
            "strong_group": strong_group,
            "wordlike": wordlike,
            "on_before": bool(ON_BEFORE.search(before)),
            "service_after": bool(re.match(r"^\s*(service|daemon|process|服务|进程)", after, re.I)),
            "logs_after": bool(re.match(r"^\s*('s\s+)?(logs?|日志)", after, re.I)),
        }
        first_word = not re.search(r"[A-Za-z0-9\u3400-\u9fff]", before)
        if wordlike and (
            first_word
            or not (
                meta["on_before"]
                or (strong_group and kinds & {"host", "group"})
                or ((meta["service_after"] or meta["logs_after"]) and "service" in kinds)
            )
        ):
            meta["weak"] = True  # "search logs for x" with a service called search: the verb wins
        if not names.is_exact(raw):
            meta["corrected"] = True  # a state change asks "did you mean …?" before any approval
        take(Mention(a, b, list(opts), raw, meta))
        i += n


HOST_SHAPE = re.compile(r"(?<![\w.-])([A-Za-z]{2,}(?:-[A-Za-z]+)*-?\d+[A-Za-z]?)(?![\w.-])", re.A)
HOST_BEFORE = re.compile(r"\b(on|at|for|of|from)\s+(the\s+)?(host\s+|server\s+|machine\s+)?$", re.I | re.A)
HOST_AFTER = re.compile(r"^('s\b|\s*[:：]|\s*(上|的|这台|那台))")


def _unknown_host(text: str, names: KnownNames, free: Free, take: Take) -> None:
    for mt in HOST_SHAPE.finditer(text):
        raw = mt.group(1)
        if (
            not free(mt.start(), mt.end())
            or raw.lower() in names.vocabulary
            or not (HOST_BEFORE.search(text[: mt.start()]) or HOST_AFTER.match(text[mt.end() :]))
        ):
            continue
        take(Mention(mt.start(), mt.end(), [("host", raw)], raw, {"unknown": True}))
        return


def _durations(text: str, low: str, free: Free, take: Take) -> None:
    def add(a: int, b: int, seconds: float, raw_a: int | None = None) -> None:
        v = _dur(seconds)
        if v is None or not free(a, b):
            return
        ctx_a = a if raw_a is None else raw_a
        before, after = text[:ctx_a], text[b:]
        future = bool(
            FUTURE_BEFORE_EN.search(before)
            or FUTURE_AFTER_EN.match(after)
            or FUTURE_BEFORE_ZH.search(before)
            or FUTURE_AFTER_ZH.match(after)
        )
        take(Mention(a, b, [("duration", v)], text[a:b], {"future": future}))

    for mt in DUR_HALF.finditer(low):
        unit = mt.group(1) or mt.group(2)
        add(mt.start(), mt.end(), 0.5 * _seconds_of_unit(unit))
    for mt in DUR_WORDS.finditer(low):
        n = _en_number(mt.group(1))
        if n is None:
            continue
        secs = n * _seconds_of_unit(mt.group(2))
        if mt.group(3):
            secs += 0.5 * _seconds_of_unit(mt.group(2))
        # "2 hours 30 minutes", "1 hour and 15 minutes"
        add(mt.start(), mt.end(), secs)
    for mt in DUR_SHORT.finditer(low):
        parts = re.findall(r"(\d+(?:\.\d+)?)\s?(mo|[smhdwy])", mt.group(1))
        if (
            len(parts) == 1
            and parts[0][1] == "s"
            and re.fullmatch(r"[1-5]\d\d", parts[0][0])
            and not TIME_BEFORE.search(low[: mt.start()])
        ):
            continue  # "find 404s in haproxy logs", "count the 502s": status codes, not seconds
        secs = sum(float(a) * (UNITS[u] if u != "mo" else MONTH) for a, u in parts)
        add(mt.start(), mt.end(), secs)
    for mt in DUR_BARE.finditer(low):
        add(mt.start(2), mt.end(2), _seconds_of_unit(mt.group(2)), raw_a=mt.start(2))
    for mt in DUR_TODAY.finditer(low):
        add(mt.start(), mt.end(), 86400)
    for mt in DUR_ZH.finditer(text):
        num = mt.group(1)
        try:
            n = float(num)
        except ValueError:
            n = numeral_value(num)
        if n is None or (mt.group(4) == "年" and n >= 100):
            continue
        unit = _zh_unit_seconds(mt.group(4))
        secs = n * unit + (0.5 * unit if mt.group(3) or mt.group(5) else 0)
        add(mt.start(), mt.end(), secs)
    for mt in DUR_ZH_HALF.finditer(text):
        add(mt.start(), mt.end(), 0.5 * _zh_unit_seconds(mt.group(2)))
    for mt in DUR_ZH_TODAY.finditer(text):
        add(mt.start(), mt.end(), 86400 if "天" in mt.group(0) or "日" in mt.group(0) else 604800)


def merge_durations(ex: Extraction) -> None:
    """Join adjacent duration mentions ("1 hour 30 minutes", "2h 15m") into one."""
    out: list[Mention] = []
    for m in ex.mentions:
        prev = out[-1] if out else None
        if (
            prev is not None
            and "duration" in m.kinds()
            and "duration" in prev.kinds()
            and re.fullmatch(r"\s*(and\s*)?", ex.text[prev.end : m.start], re.I)
            and parse_duration(prev.value("duration")) > parse_duration(m.value("duration"))
        ):
            secs = parse_duration(prev.value("duration")) + parse_duration(m.value("duration"))
            out[-1] = Mention(
                prev.start, m.end, [("duration", format_duration(secs))], ex.text[prev.start : m.end], prev.meta
            )
            continue
        out.append(m)
    ex.mentions = out


def _enums(text: str, low: str, names: KnownNames, free: Free, take: Take) -> None:
    for mt in WORD.finditer(low):
        w = mt.group(0)
        if not free(mt.start(), mt.end()):
            continue
        opts = names.enum_words.get(w) or names.enum_words.get(stem(w))
        if opts is None and len(w) >= 6 and w not in names.vocabulary and w not in STOP:
            close = [
                e for e in names.enum_ascii if abs(len(e) - len(w)) <= 1 and OSA.distance(w, e, score_cutoff=1) <= 1
            ]
            if len(close) == 1:
                opts = names.enum_words[close[0]]
        if opts:
            take(Mention(mt.start(), mt.end(), [("enum", o) for o in opts], w, {"overlay": True}))
    covered: set[int] = set()
    for w in names.enum_cjk:  # longest first; overlapping shorter words are skipped
        start = 0
        while True:
            k = text.find(w, start)
            if k < 0:
                break
            span = set(range(k, k + len(w)))
            if free(k, k + len(w)) and not span & covered:
                covered |= span
                take(Mention(k, k + len(w), [("enum", o) for o in names.enum_words[w]], w, {"overlay": True}))
            start = k + len(w)
