"""The slot-filling stage: the chosen rule's params from the values found in the message, by type
(the best-fitting mention for each), and free text for a pattern param even without quotes. Several
hosts listed together fill one host param ("web-1 and web-2" -> "web-1,web-2"); a deployment stands for
its host where a rule takes no deployment ("cpu on llama-chat"). Required params the message does not
give are reported missing, never guessed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from opsbot.parsing.chinese import has_cjk
from opsbot.parsing.offline.entities import KIND_OF_TYPE, Extraction, Mention, looks_promql
from opsbot.parsing.offline.index import IntentInfo
from opsbot.parsing.offline.lexicon import FILLER_ZH, HOST_JOIN, STOP, UNQUOTED_STOP_EN, UNQUOTED_STOP_ZH, stem
from opsbot.rules.schema import ParamSpec, ParamType


def assign(
    info: IntentInfo, ex: Extraction, known: Callable[[str], bool], host_of: Mapping[str, str]
) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """Fill the rule's params from the mentions, by type. Returns the params and the spans of text
    handed over verbatim (search patterns, PromQL), where destructive words are only data.
    `known` tells the words some example uses; `host_of` maps each deployment to its host."""
    rule = info.rule
    mentions = [m for m in ex.span_mentions() if not m.meta.get("weak")]
    if not any(s.type == "deployment" for s in rule.params.values()):
        mentions = [_deployment_as_host(m, host_of) for m in mentions]  # "cpu on llama-chat": its host
    used: set[int] = set()
    params: dict[str, Any] = {}
    text_spans: list[tuple[int, int]] = []
    has = {s.type for s in rule.params.values()}

    kinds_of = {n: KIND_OF_TYPE.get(s.type, set()) for n, s in rule.params.items()}

    def pick(name: str, spec: ParamSpec) -> tuple[int, Any] | None:
        best = None
        for i, m in enumerate(mentions):
            if i in used:
                continue
            sc = _fit(spec, m, has)
            if sc is not None and any(
                m.kinds() & k for n, k in kinds_of.items() if n != name and n not in params and not (k & kinds_of[name])
            ):
                sc = (sc[0] - 1.0, sc[1])  # could fill another param too: the unambiguous mention first
            if sc is not None and (best is None or sc[0] > best[0]):
                best = (sc[0], i, sc[1])
        return None if best is None else (best[1], best[2])

    order = sorted(rule.params.items(), key=lambda kv: _order(kv[1]))
    durations = [n for n, s in rule.params.items() if s.type == "duration"]
    for name, spec in order:
        if spec.type == "enum":
            word = _enum_value(spec, ex)
            if word is not None:
                params[name] = word
            continue
        if spec.type == "duration" and len(durations) > 1:
            cands = [
                (i, m)
                for i, m in enumerate(mentions)
                if i not in used
                and "duration" in m.kinds()
                and bool(m.meta.get("future")) == info.future.get(name, False)
            ]
            if cands:
                used.add(cands[0][0])
                params[name] = cands[0][1].value("duration")
                continue
        if spec.type == "integer":
            got = _integer(mentions, used, ex.text)
            if got is not None:
                used.add(got[0])
                params[name] = got[1]
            continue
        fit = pick(name, spec)
        if fit is not None:
            picked, v = fit
            if spec.type == "text" and spec.pattern and not re.fullmatch(spec.pattern, str(v)):
                continue
            used.add(picked)
            if spec.type == "host":
                v = _more_hosts(mentions, picked, used, ex.text, v)
            params[name] = v
            if spec.type == "text" or (spec.type == "promql" and looks_promql(str(v))):
                text_spans.append((mentions[picked].start, mentions[picked].end))
        elif spec.type == "text":
            found = _unquoted(info, name, spec, ex, mentions, known)
            if found is not None:
                params[name] = found[0]
                text_spans.append(found[1])
                a, b = found[1]
                used.update(i for i, m in enumerate(mentions) if a <= m.start < b)
    return params, text_spans


def _deployment_as_host(m: Mention, host_of: Mapping[str, str]) -> Mention:
    """A deployment mention that can also stand for the host it runs on."""
    host = host_of.get(m.value("deployment") or "")
    if host is None or "host" in m.kinds():
        return m
    return Mention(m.start, m.end, [*m.options, ("host", host)], m.text, m.meta)


def _more_hosts(mentions: list[Mention], first: int, used: set[int], text: str, value: str) -> str:
    """ "web-1 and web-2", "web-1,web-2", "web-1 和 web-2": the hosts listed with the one found, joined
    by commas (the binder fans out over them)."""
    names = [value]
    for step in (1, -1):
        k = first
        while 0 <= k + step < len(mentions):
            a, b = (mentions[k], mentions[k + step]) if step == 1 else (mentions[k + step], mentions[k])
            nxt = mentions[k + step]
            if k + step in used or not nxt.kinds() & {"host", "group"} or not HOST_JOIN.match(text[a.end : b.start]):
                break
            k += step
            used.add(k)
            v = nxt.value("host") or nxt.value("group")
            names = [*names, v] if step == 1 else [v, *names]
    return ",".join(dict.fromkeys(names))


def _unquoted(
    info: IntentInfo, name: str, spec: ParamSpec, ex: Extraction, mentions: list[Mention], known: Callable[[str], bool]
) -> tuple[str, tuple[int, int]] | None:
    """Free text for a text param without quotes: the words after one of the words the examples put
    before it ("grep nginx logs for 502", "在 nginx 日志里搜索 502")."""
    text, low = ex.text, ex.text.lower()
    blocks = sorted(
        (m.start, m.end)
        for m in mentions
        if not m.meta.get("unknown")
        and m.kinds() & {"host", "group", "service", "deployment", "duration", "quote", "promql"}
    )
    rights = set(info.right.get(name, []))
    best = None
    for ctx in sorted(set(info.left.get(name, [])), key=len, reverse=True):
        if has_cjk(ctx):
            starts = [k + len(ctx) for k in _find_all(low, ctx)]
        else:
            starts = [mt.end() for mt in re.finditer(rf"(?<![a-z]){re.escape(ctx)}(?![a-z])", low)]
        for s in starts:
            if any(bs < s <= be for bs, be in blocks):
                continue
            cand = _take_words(text, s, blocks, rights)
            if cand is None:
                continue
            value, span = cand
            if spec.pattern and not re.fullmatch(spec.pattern, value):
                continue
            if (
                best is None
                or (best[1][0] < span[0] < best[1][1])
                or (span[0] < best[1][0] and not span[0] < best[1][0] < span[1])
            ):
                best = (value, span)  # the first run, unless it swallows a later context's run
                #                          ("find lines matching timeout": "timeout", not "lines matching timeout")
    return best or _unknown_run(ex, blocks, spec, known)


def _unknown_run(
    ex: Extraction, blocks: list[tuple[int, int]], spec: ParamSpec, known: Callable[[str], bool]
) -> tuple[str, tuple[int, int]] | None:
    """The only run of words no example uses ("envoy 日志里搜一下 timeout" -> timeout), else None."""
    runs: list[tuple[int, int]] = []
    for mt in re.finditer(r"[A-Za-z0-9][\w.:/-]*", ex.text):
        w = mt.group(0).lower()
        if any(bs <= mt.start() < be for bs, be in blocks) or w in STOP or known(w):
            continue
        if runs and re.fullmatch(r"\s+", ex.text[runs[-1][1] : mt.start()]):
            runs[-1] = (runs[-1][0], mt.end())
        else:
            runs.append((mt.start(), mt.end()))
    if len(runs) != 1:
        return None
    value = ex.text[runs[0][0] : runs[0][1]]
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return None
    return value, runs[0]


def _order(spec: ParamSpec) -> int:
    return {"promql": 0, "text": 1, "deployment": 2, "service": 3, "host": 4, "group": 4}.get(spec.type, 5)


def _fit(spec: ParamSpec, m: Mention, has: set[ParamType]) -> tuple[float, Any] | None:
    """How well a mention fits a param (higher is better) and the value it gives; None if it cannot."""
    kinds = m.kinds()
    meta = m.meta
    t = spec.type
    if t in ("host", "group"):
        score = None
        if t == "host" and "host" in kinds:
            score, value = (0.5 if meta.get("unknown") else 3.0), m.value("host")
        elif "group" in kinds and (t == "group" or spec.groups):
            score, value = (2.0 if meta.get("strong_group") else 1.0), m.value("group")
        if score is None:
            return None
        if "service" in kinds and "service" in has:
            score += -2.0 if (meta.get("service_after") or meta.get("logs_after")) else 0.0
            score += 1.0 if (meta.get("strong_group") or meta.get("on_before")) else -0.5
        return score - m.start / 10000, value
    if t == "service" and "service" in kinds:
        score = 3.0
        if kinds & {"host", "group"} and "host" in has:
            score += 2.0 if (meta.get("service_after") or meta.get("logs_after")) else 0.0
            score -= 2.0 if (meta.get("strong_group") or meta.get("on_before")) else 0.0
        return score - m.start / 10000, m.value("service")
    if t == "deployment" and "deployment" in kinds:
        return 3.0 - m.start / 10000, m.value("deployment")
    if t == "duration" and "duration" in kinds:
        return 3.0 - m.start / 10000, m.value("duration")
    if t == "version" and "version" in kinds:
        return 3.0 - m.start / 10000, m.value("version")
    if t == "promql":
        if "promql" in kinds:
            return (4.0 if meta.get("backtick") else 3.0) - m.start / 10000, m.value("promql")
        if "quote" in kinds:
            return 1.0 - m.start / 10000, m.value("quote")
        return None
    if t == "text" and "quote" in kinds:
        return (2.0 if not meta.get("backtick") else 1.5) - m.start / 10000, m.value("quote")
    return None


def _integer(mentions: list[Mention], used: set[int], text: str) -> tuple[int, int] | None:
    best = None
    for i, m in enumerate(mentions):
        if i in used or "integer" not in m.kinds():
            continue
        before, after = text[: m.start], text[m.end :]
        score = 1.0 + m.start / 10000  # later numbers slightly preferred ("from 2 to 4")
        if re.search(r"(\bto|\bat|到|为|成|至)\s*$", before, re.I):
            score += 2
        if re.match(r"^\s*(个|台|份)?\s*(replicas?|copies|instances?|pods?|workers?|副本|实例|节点)", after, re.I):
            score += 2
        if best is None or score > best[0]:
            best = (score, i, m.value("integer"))
    return None if best is None else (best[1], best[2])


def _enum_value(spec: ParamSpec, ex: Extraction) -> str | None:
    for m in ex.mentions:
        if not m.meta.get("overlay"):
            continue
        w = m.text.lower()
        for canon in spec.values:
            words = [canon.lower()] + [x.lower() for x in spec.aliases.get(canon, [])]
            if w in words or stem(w) in words:
                return canon
        for _k, (_p, canon) in m.options:
            if canon in spec.values:
                return str(canon)
    return None


def _find_all(s: str, sub: str) -> list[int]:
    out, k = [], s.find(sub)
    while k >= 0:
        out.append(k)
        k = s.find(sub, k + 1)
    return out


def _take_words(
    text: str, s: int, blocks: list[tuple[int, int]], rights: set[str]
) -> tuple[str, tuple[int, int]] | None:
    """The words from s up to the next param-like mention, preposition, particle or punctuation."""
    end_limit = min([bs for bs, _ in blocks if bs >= s] + [len(text)])
    seg = text[s:end_limit]
    lead = len(seg) - len(seg.lstrip(" :：,"))
    seg = seg[lead:]
    words: list[str] = []
    pos = 0
    for mt in re.finditer(r"[\u3400-\u9fff]+|[^\s\u3400-\u9fff]+", seg):
        w = mt.group(0)
        wl = w.lower().strip(",.;!?")
        if has_cjk(w):
            cut = next((k for k, c in enumerate(w) if c in UNQUOTED_STOP_ZH), len(w))
            for r in rights:
                if has_cjk(r) and r in w[:cut]:
                    cut = min(cut, w.index(r))
            if cut:
                words.append(w[:cut])
                pos = mt.start() + cut
            break
        if UNQUOTED_STOP_EN.match(wl) or wl in rights or not wl:
            break
        words.append(w.rstrip(",.;!?"))
        pos = mt.end()
        if w != w.rstrip(",.;!?"):
            break
    value = " ".join(words).strip()
    if not value or all(x.lower() in STOP or x in FILLER_ZH for x in words):
        return None  # only function words or Chinese filler ("grep 一下 ...") is no pattern
    a = s + lead
    return value, (a, a + pos)
