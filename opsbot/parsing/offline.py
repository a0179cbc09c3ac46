"""The offline intent parser: no network, no model, deterministic.

1. Find the values in the message (entities.py): inventory names from the config, durations, numbers,
   quoted text, PromQL, versions, enum words from the rules.
2. Replace them by placeholders and compare the message with every rule example through an inverted
   tf-idf index (similarity.py): English words stemmed with a few synonyms, Chinese as character n-grams.
3. Weigh each intent by how well the values found fit its params (a deployment favours llm.*, PromQL
   favours metrics.query), then apply the safety gates: a state-changing intent needs a clear verb of its
   own, its object (service, deployment or host) and a higher score; a destructive word that the intent's
   examples never use vetoes any intent.
4. Fill the chosen rule's params by type; report required ones that are missing, never guess them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from opsbot.config import Config
from opsbot.parsing.chinese import has_cjk, ngrams
from opsbot.parsing.entities import (KIND_OF_TYPE, PLACEHOLDER_OF_KIND, Extraction, Lexicon, Mention, extract,
                                     looks_promql, normalise_text)
from opsbot.parsing.similarity import ExampleIndex
from opsbot.parsing.words import FOLLOW_UP_EN, FOLLOW_UP_ZH, STOP, apply_phrases, normalise_word, stem
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import ParamSpec, Rule
from opsbot.core.request import MAX_CHARS
from opsbot.core.task import Suggestion, Task

READ_THRESHOLD = 0.34          # best score a read-only intent needs
CHANGE_THRESHOLD = 0.50        # best score a state-changing intent needs (plus a verb of its own)
SIGNAL_PURITY = 0.6            # a word is an intent's "own" when this share of the examples using it are its

# Destructive verbs: a message using one of them is refused unless the chosen intent's own examples use it.
VETO_PREFIXES = ("delet", "remov", "drop", "truncat", "format", "reformat", "wipe", "wiping", "wiped", "eras",
                 "destroy", "kill", "pkill", "shutdown", "poweroff", "halt", "terminat", "nuke", "nuking", "purg",
                 "uninstall", "stop", "disabl", "reset", "overwrit", "flush", "shred", "unmount", "umount",
                 "obliterat", "annihilat", "demolish", "scrap", "kill")
VETO_EXACT = {"rm", "rmdir", "mkfs", "chmod", "chown", "sudo", "rf", "dd", "fdisk", "iptables", "userdel"}
VETO_ZH = ("删除", "删掉", "删了", "移除", "格式化", "清空", "关机", "关掉", "关闭", "停止", "停掉", "停用", "禁用",
           "销毁", "卸载", "杀掉", "杀死", "干掉", "抹掉", "擦除", "重置", "清除", "关停", "下线", "注销", "毁掉")

# Words too general to show on their own that a change is wanted, whatever the examples say.
NOT_SIGNALS = frozenset("""some make out set now please previous service have get all any up down more less one
new old last next it run show give need want can could would go""".split()) | frozenset(
    ["帮我", "帮忙", "一下", "一些", "服务", "请", "给我", "重新", "所有", "都", "现在", "马上", "立即", "磁盘", "空间", "出来", "起来", "一点", "一些"])

PENALTY = {"host": 0.8, "group": 0.8, "service": 0.8, "deployment": 0.75, "duration": 0.9, "version": 0.85,
           "quote": 0.85, "promql": 0.6, "integer": 1.0}
OBJECT_TYPES = ("service", "deployment")

EN_WORD_OR_CJK = re.compile(r"[a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
MARKERS_EN = re.compile(r"^\s*(and\s+)?(also|now|then|ok|okay|same(\s+thing)?|ditto|what|how|about|try|but|instead|"
                        r"again|for|on|in|at|make it|change it to|set it to|do it for|do the same)\b"
                        r"|\b(same for|same on|instead|as well|too|about)\b", re.I)
MARKERS_ZH = re.compile(r"呢|那|换成|换到|改成|改为|再看|再查|同样|也看|还有|也")
UNQUOTED_STOP_EN = re.compile(r"^(on|in|at|from|over|during|within|across|since|for|of|and|with|logs?|the|"
                              r"last|past|today|yesterday|please|now|files?)$", re.I)
QUOTE_OPEN = "`'\"“‘「『"
FILLER_ZH = frozenset("一下 下 一些 帮我 帮忙 给我 看看 看一下 查一下 查下 搜一下 找一下 请 麻烦".split())
UNQUOTED_STOP_ZH = "的在上里中了吗呢，。；！？,.;!?"


@dataclass
class IntentInfo:
    intent: str
    rule: Rule                     # the primary rule: its params describe the intent
    changes_state: bool
    kinds: set[str]                # the mention kinds its params accept
    vocab: set[str]                # normalised tokens of its examples
    text: str                      # its examples, lower case (for Chinese veto exemptions)
    signals: set[str]
    left: dict[str, list[str]]     # text param -> words seen right before it in examples
    right: dict[str, list[str]]    # text param -> words seen right after it
    future: dict[str, bool]        # duration param -> examples put it in the future ("next {horizon}")


@dataclass
class Analysis:
    text: str
    ex: Extraction
    tokens: list[str]
    ranked: list[tuple[str, float]]
    learned: set[str]              # intents whose closest example is one users confirmed


class OfflineParser:
    name = "offline"

    def __init__(self, rules: RuleSet, config: Config, learned: Iterable[dict] = ()):
        self.rules = rules
        self.config = config
        learned = [d for d in (learned or ()) if isinstance(d, dict) and d.get("intent") in rules.by_intent
                   and isinstance(d.get("text"), str)]
        # (intent, text with {placeholders}, rule, weight, learned)
        examples: list[tuple[str, str, Rule, float, bool]] = []
        for intent, group in rules.by_intent.items():
            primary = rules.primary(intent)
            for rule in group:
                for ex in rule.examples.en + rule.examples.zh:
                    examples.append((intent, ex, rule, 1.0, False))
            examples.append((intent, primary.summary, primary, 0.7, False))
        for d in learned:
            primary = rules.primary(d["intent"])
            examples.append((d["intent"], _template(d["text"], d.get("params") or {}, primary), primary, 1.0, True))

        vocabulary: set[str] = set()
        for _, text, _, _, _ in examples:
            for w in re.findall(r"[a-z]+", re.sub(r"\{\w+\}", " ", text.lower())):
                vocabulary.add(w)
                vocabulary.add(stem(w))
        self.lex = Lexicon(config, rules, vocabulary)
        self._fuzzy_words = sorted(w for w in vocabulary if len(w) >= 5 and w not in STOP)
        self._short_words = sorted(w for w in vocabulary if len(w) == 4 and w not in STOP)
        self._fuzzy_cache: dict[str, str | None] = {}

        self.index = ExampleIndex()
        vocab: dict[str, set[str]] = {i: set() for i in rules.by_intent}
        texts: dict[str, list[str]] = {i: [] for i in rules.by_intent}
        for intent, text, rule, weight, is_learned in examples:
            ex = extract(normalise_text(text), self.lex, placeholders=rule.params)
            toks = self._tokens(ex, query=False)
            self.index.add(intent, toks, weight, learned=is_learned)
            if weight >= 1.0:
                vocab[intent].update(toks)
                texts[intent].append(text.lower())
        self.index.build()

        self.info: dict[str, IntentInfo] = {}
        for intent, group in rules.by_intent.items():
            primary = rules.primary(intent)
            kinds = set()
            for spec in primary.params.values():
                kinds |= KIND_OF_TYPE.get(spec.type, set())
            signals = {t for t in vocab[intent] if not t.startswith("<") and t not in STOP and t not in NOT_SIGNALS
                       and not (len(t) == 1 and has_cjk(t))
                       and self.index.purity(t, intent) >= SIGNAL_PURITY}
            left, right, future = _contexts(primary, [e for i, e, _, w, _ in examples if i == intent and w >= 1.0])
            self.info[intent] = IntentInfo(intent, primary, any(r.changes_state for r in group), kinds,
                                           vocab[intent], "\n".join(texts[intent]), signals, left, right, future)

    # ------------------------------------------------------------------------------------ public API

    def parse(self, text: str, previous: Task | None = None) -> Task:
        if len(text) > MAX_CHARS:    # a pasted log, not a request: refuse fast rather than scan it
            return Task(intent=None, parser=self.name, note=f"the message is {len(text)} characters; "
                        f"requests are at most {MAX_CHARS}")
        a = self._analyse(text)
        if previous is not None and previous.intent in self.info and self._is_follow_up(a):
            task = self._follow_up(a, previous)
            if task is not None:
                return task
        return self._decide(a)

    def rank(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """The k intents closest to the text, best first. Intents that share no content word with it come
        last, ordered by their raw similarity, so a caller always gets k candidates (when there are k)."""
        a = self._analyse(text, limit=max(k, 10))
        out = list(a.ranked[:k])
        if len(out) < k:
            seen = {i for i, _ in out}
            raw = self.index.scores(a.tokens, gated=False)
            rest = sorted(((i, round(min(s, out[-1][1] if out else 1.0) * 0.5, 4)) for i, (s, _) in raw.items()
                           if i not in seen), key=lambda x: (-x[1], x[0]))
            rest += sorted((i, 0.0) for i in self.info if i not in seen and i not in raw)
            out += rest[: k - len(out)]
        return out

    # ------------------------------------------------------------------------------------ analysis

    def _analyse(self, text: str, limit: int = 10) -> Analysis:
        norm = normalise_text(text or "").strip()
        ex = extract(norm, self.lex)
        toks = self._tokens(ex, query=True)
        raw = self.index.scores(toks)
        learned = {i for i, (_, doc) in raw.items() if doc in self.index.learned}
        return Analysis(norm, ex, toks, self._rank(ex, toks, raw, learned, limit), learned)

    def _tokens(self, ex: Extraction, query: bool) -> list[str]:
        toks: list[str] = []
        pos = 0
        for m in ex.span_mentions():
            toks += self._text_tokens(ex.text[pos:m.start], query)
            pos = m.end
            if "placeholder" in m.kinds():
                toks.append(m.value("placeholder"))
            elif m.meta.get("weak"):
                toks += self._text_tokens(m.text, query)
            else:
                for k in dict.fromkeys(k for k, _ in m.options):
                    if k in PLACEHOLDER_OF_KIND and PLACEHOLDER_OF_KIND[k] not in toks[-3:]:
                        toks.append(PLACEHOLDER_OF_KIND[k])
        toks += self._text_tokens(ex.text[pos:], query)
        enums = {f"<enum:{p}>" for m in ex.mentions if m.meta.get("overlay") for _, (p, _c) in m.options}
        return toks + sorted(enums)

    def _text_tokens(self, segment: str, query: bool) -> list[str]:
        out: list[str] = []
        for w in EN_WORD_OR_CJK.findall(apply_phrases(segment.lower())):
            if w[0] >= "\u3400":
                out += ngrams(w)
            elif w not in STOP:
                t = normalise_word(w)
                if query and t not in self.index.idf:
                    t = self._correct(w) or t
                out.append(t)
        return out

    def _correct(self, word: str) -> str | None:
        """A word of the examples the message probably meant (restrat -> restart); None if none is close."""
        if word in self._fuzzy_cache:
            return self._fuzzy_cache[word]
        fixed = None
        if len(word) >= 5 and not _is_veto_word(word):
            limit = 1 if len(word) <= 7 else 2
            hit = process.extractOne(word, self._fuzzy_words, scorer=OSA.distance, score_cutoff=limit)
            if hit is not None:
                fixed = normalise_word(hit[0])
        elif len(word) == 4 and not _is_veto_word(word):       # short words: only two letters swapped (dsik)
            swaps = [w for w in self._short_words if sorted(w) == sorted(word) and OSA.distance(w, word) == 1]
            if len(swaps) == 1:
                fixed = normalise_word(swaps[0])
        if len(self._fuzzy_cache) > 20000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = fixed
        return fixed

    def _rank(self, ex: Extraction, toks: list[str], scores: dict, learned: set[str],
              limit: int = 10) -> list[tuple[str, float]]:
        """Intents by similarity times entity fit, best first: at least the `limit` best exactly; intents
        whose similarity alone cannot reach them are left out (with hundreds of rules most are)."""
        raw = sorted(((s, i) for i, (s, _doc) in scores.items()), key=lambda x: (-x[0], x[1]))
        own_words = set(toks)
        present = [m.kinds() for m in ex.span_mentions() if not m.meta.get("weak")]
        boost = 1.15 ** sum(1 for k in present if "promql" in k)
        out: list[tuple[str, float]] = []
        for score, intent in raw:
            if len(out) >= limit and score * boost < sorted(s for _, s in out)[-limit]:
                break
            info = self.info[intent]
            factor = 1.0
            for kinds in present:
                if not kinds & info.kinds:
                    factor *= min(PENALTY.get(k, 1.0) for k in kinds)
                elif "promql" in kinds and "promql" in info.kinds:
                    factor *= 1.15
            if info.changes_state and not (own_words & info.signals) and intent not in learned:
                factor *= 0.7                 # a change without a verb of its own is unlikely meant
            out.append((intent, round(min(1.0, score * factor), 4)))
        out.sort(key=lambda x: (-x[1], self.info[x[0]].changes_state, x[0]))   # ties: the read-only one first
        return out

    # ------------------------------------------------------------------------------------ decision

    def _decide(self, a: Analysis) -> Task:
        ranked = a.ranked
        if not a.text or not ranked:
            return self._null(ranked, "no rule matches")
        top = ranked[0][1]
        why = "no rule matches well"
        for intent, score in ranked[:3]:
            if score < top - 0.15:
                break
            info = self.info[intent]
            params, spans = self._assign(info, a.ex)
            vetoed = self._vetoed(a, info, spans)
            if vetoed:
                return self._null(ranked, f"refused: {vetoed!r} is destructive and no matching rule uses it")
            if info.changes_state:
                # its own verb, or a wording users confirmed for it ("give redis the old off and on")
                if not (set(a.tokens) & info.signals) and intent not in a.learned:
                    why = "not sure enough to propose a change (a change needs its own verb, its object and a close match)"
                    continue                  # no verb of its own: maybe a read-only intent fits
                if score < CHANGE_THRESHOLD or not self._has_object(info, params):
                    return self._null(ranked, "not sure enough to propose a change (a change needs its own verb, its object and a close match)")
            elif score < READ_THRESHOLD:
                break
            else:
                asked = self._change_asked(a, info)
                if asked:
                    # the change the verb belongs to, when it passes every gate of its own ("释放 mq-1 的磁盘空间")
                    task = self._asked_change(a, asked)
                    if task is not None:
                        return task
                    return self._null(ranked, f"{asked!r} asks for a change this request does not name clearly")
            rest = [s for i, s in ranked if i != intent]
            confidence = _confidence(score, rest[0] if rest else 0.0)
            missing = [n for n, s in info.rule.params.items() if s.required and n not in params]
            return Task(intent=intent, params=params, confidence=confidence, parser=self.name, missing=missing)
        return self._null(ranked, why)

    def _null(self, ranked: list[tuple[str, float]], why: str) -> Task:
        sugg = [Suggestion(intent=i, score=round(s, 3)) for i, s in ranked[:3] if s > 0]
        return Task(intent=None, params={}, confidence=0.0, parser=self.name, suggestions=sugg, note=why)

    def _asked_change(self, a: Analysis, word: str) -> Task | None:
        """The state-changing intent whose own verb `word` is, when it ranks close enough, names its object and
        no destructive word vetoes it; None otherwise."""
        scores = dict(a.ranked)
        owners = [i for i, info in self.info.items() if info.changes_state and word in info.signals
                  and scores.get(i, 0.0) >= CHANGE_THRESHOLD]
        if len(owners) != 1:
            return None
        info = self.info[owners[0]]
        params, spans = self._assign(info, a.ex)
        if not self._has_object(info, params) or self._vetoed(a, info, spans):
            return None
        score = scores[info.intent]
        rest = [s for i, s in a.ranked if i != info.intent]
        missing = [n for n, s in info.rule.params.items() if s.required and n not in params]
        return Task(intent=info.intent, params=params, confidence=_confidence(score, rest[0] if rest else 0.0),
                    parser=self.name, missing=missing)

    def _has_object(self, info: IntentInfo, params: dict) -> bool:
        req = {n: s for n, s in info.rule.params.items() if s.required}
        objects = [n for n, s in req.items() if s.type in OBJECT_TYPES]
        if objects:
            return all(n in params for n in objects)
        hosts = [n for n, s in req.items() if s.type in ("host", "group")]
        return all(n in params for n in hosts)

    def _change_asked(self, a: Analysis, chosen: IntentInfo) -> str | None:
        """A verb of a state-changing intent ("restart", "重启") in a message going to another intent whose
        examples never use it: the user asked for a change, so answering something else is wrong."""
        toks = set(a.tokens)
        for info in self.info.values():
            if info.changes_state and info is not chosen:
                hit = sorted(t for t in toks & info.signals if t not in chosen.vocab)
                if hit:
                    return hit[0]
        return None

    def _vetoed(self, a: Analysis, info: IntentInfo, exempt: list[tuple[int, int]]) -> str | None:
        """A destructive word the intent's own examples never use, outside the text handed over as a
        search pattern; None when there is none."""
        text = a.text
        low = text.lower()
        for mt in re.finditer(r"[a-z]+", low):
            w = mt.group(0)
            if not _is_veto_word(w):
                continue
            if not info.changes_state and any(s <= mt.start() < e for s, e in exempt):
                continue
            if normalise_word(w) in info.vocab or re.search(rf"\b{w}\b", info.text):
                continue
            return w
        for w in VETO_ZH:
            k = text.find(w)
            if k >= 0 and w not in info.text:
                # only a quoted pattern makes a Chinese destructive verb data: unquoted, "日志全删了" is the request
                if not info.changes_state and any(s <= k < e and text[s:s + 1] in QUOTE_OPEN for s, e in exempt):
                    continue
                return w
        return None

    # ------------------------------------------------------------------------------------ params

    def _assign(self, info: IntentInfo, ex: Extraction) -> tuple[dict[str, Any], list[tuple[int, int]]]:
        """Fill the rule's params from the mentions, by type. Returns the params and the spans of text
        handed over verbatim (search patterns, PromQL), where destructive words are only data."""
        rule = info.rule
        mentions = [m for m in ex.span_mentions() if not m.meta.get("weak")]
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
                if sc is not None and any(m.kinds() & k for n, k in kinds_of.items() if n != name and n not in params
                                          and not (k & kinds_of[name])):
                    sc = (sc[0] - 1.0, sc[1])  # could fill another param too: the unambiguous mention first
                if sc is not None and (best is None or sc[0] > best[0]):
                    best = (sc[0], i, sc[1])
            return None if best is None else (best[1], best[2])

        order = sorted(rule.params.items(), key=lambda kv: _order(kv[1]))
        durations = [n for n, s in rule.params.items() if s.type == "duration"]
        for name, spec in order:
            if spec.type == "enum":
                v = _enum_value(spec, ex)
                if v is not None:
                    params[name] = v
                continue
            if spec.type == "duration" and len(durations) > 1:
                cands = [(i, m) for i, m in enumerate(mentions) if i not in used and "duration" in m.kinds()
                         and bool(m.meta.get("future")) == info.future.get(name, False)]
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
            got = pick(name, spec)
            if got is not None:
                i, v = got
                if spec.type == "text" and spec.pattern and not re.fullmatch(spec.pattern, str(v)):
                    continue
                used.add(i)
                params[name] = v
                if spec.type == "text" or (spec.type == "promql" and looks_promql(str(v))):
                    text_spans.append((mentions[i].start, mentions[i].end))
            elif spec.type == "text":
                found = self._unquoted(info, name, spec, ex, mentions)
                if found is not None:
                    params[name] = found[0]
                    text_spans.append(found[1])
                    a, b = found[1]
                    used.update(i for i, m in enumerate(mentions) if a <= m.start < b)
        return params, text_spans

    def _unquoted(self, info: IntentInfo, name: str, spec: ParamSpec, ex: Extraction,
                  mentions: list[Mention]) -> tuple[str, tuple[int, int]] | None:
        """Free text for a text param without quotes: the words after one of the words the examples put
        before it ("grep nginx logs for 502", "在 nginx 日志里搜索 502")."""
        text, low = ex.text, ex.text.lower()
        blocks = sorted((m.start, m.end) for m in mentions if not m.meta.get("unknown")
                        and m.kinds() & {"host", "group", "service", "deployment", "duration", "quote", "promql"})
        rights = {r for r in info.right.get(name, [])}
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
                if best is None or (best[1][0] < span[0] < best[1][1]) or (
                        span[0] < best[1][0] and not span[0] < best[1][0] < span[1]):
                    best = (value, span)     # the first run, unless it swallows a later context's run
                    #                          ("find lines matching timeout": "timeout", not "lines matching timeout")
        return best or self._unknown_run(ex, blocks, spec)

    def _unknown_run(self, ex: Extraction, blocks: list[tuple[int, int]], spec: ParamSpec):
        """The only run of words no example uses ("envoy 日志里搜一下 timeout" -> timeout), else None."""
        runs: list[tuple[int, int]] = []
        for mt in re.finditer(r"[A-Za-z0-9][\w.:/-]*", ex.text):
            w = mt.group(0).lower()
            if any(bs <= mt.start() < be for bs, be in blocks) or w in STOP or w in self.lex.vocabulary \
                    or normalise_word(w) in self.index.idf or stem(w) in self.lex.vocabulary:
                continue
            if runs and re.fullmatch(r"\s+", ex.text[runs[-1][1]:mt.start()]):
                runs[-1] = (runs[-1][0], mt.end())
            else:
                runs.append((mt.start(), mt.end()))
        if len(runs) != 1:
            return None
        value = ex.text[runs[0][0]:runs[0][1]]
        if spec.pattern and not re.fullmatch(spec.pattern, value):
            return None
        return value, runs[0]

    # ------------------------------------------------------------------------------------ follow-ups

    def _is_follow_up(self, a: Analysis) -> bool:
        if FOLLOW_UP_EN.search(a.text) or FOLLOW_UP_ZH.search(a.text):
            return True
        content = [t for t in a.tokens if not t.startswith("<")]
        return not content and bool(a.ex.span_mentions())

    def _follow_up(self, a: Analysis, previous: Task) -> Task | None:
        prev = self.info[previous.intent]
        # its own words first: "what about memory?" after a CPU question asks for memory
        stripped = MARKERS_ZH.sub(" ", MARKERS_EN.sub(" ", a.text))
        own = self._analyse(stripped)
        words = [t for t in own.tokens if not t.startswith("<") and t not in _FILLER]
        if words and own.ranked and own.ranked[0][0] != previous.intent:
            fresh = self._decide(a)
            if fresh.intent is not None and not self.info[fresh.intent].changes_state:
                info = self.info[fresh.intent]
                for n, v in (previous.params or {}).items():
                    if n in info.rule.params and n not in fresh.params:
                        fresh.params[n] = v
                fresh.missing = [n for n in fresh.missing if n not in fresh.params]
                return fresh
            if fresh.intent is not None:
                return fresh
        new, spans = self._assign(prev, a.ex)
        if not new:
            return None
        vetoed = self._vetoed(a, prev, spans)
        if vetoed:
            return self._null(a.ranked, f"refused: {vetoed!r} is destructive and no matching rule uses it")
        params = {**(previous.params or {}), **new}
        missing = [n for n, s in prev.rule.params.items() if s.required and n not in params]
        return Task(intent=previous.intent, params=params, confidence=round(0.9 * (previous.confidence or 0.8), 4),
                    parser=self.name, missing=missing, note="follow-up of the previous request")


# ---------------------------------------------------------------------------------------------- helpers

_FILLER = {"what", "how", "about", "same", "also", "then", "now", "instead", "again", "too", "last", "past",
           "next", "one", "thing", "well", "just", "over", "try", "it", "there", "make", "change", "set", "do"}


_VETO = re.compile("(?:" + "|".join(sorted(set(VETO_PREFIXES), key=len, reverse=True)) + ")")


def _is_veto_word(w: str) -> bool:
    w = w.lower()
    return w in VETO_EXACT or _VETO.match(w) is not None


def _confidence(best: float, second: float) -> float:
    margin = max(0.0, best - second)
    return round(max(0.0, min(1.0, best * (0.8 + min(margin, 0.2)))), 4)


def _order(spec: ParamSpec) -> int:
    return {"promql": 0, "text": 1, "deployment": 2, "service": 3, "host": 4, "group": 4}.get(spec.type, 5)


def _fit(spec: ParamSpec, m: Mention, has: set[str]) -> tuple[float, Any] | None:
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
        before, after = text[:m.start], text[m.end:]
        score = 1.0 + m.start / 10000                # later numbers slightly preferred ("from 2 to 4")
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
                return canon
    return None


def _find_all(s: str, sub: str) -> list[int]:
    out, k = [], s.find(sub)
    while k >= 0:
        out.append(k)
        k = s.find(sub, k + 1)
    return out


def _take_words(text: str, s: int, blocks: list[tuple[int, int]], rights: set[str]) -> tuple[str, tuple[int, int]] | None:
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
        return None                  # only function words or Chinese filler ("grep 一下 ...") is no pattern
    a = s + lead
    return value, (a, a + pos)


def _contexts(rule: Rule, examples: list[str]) -> tuple[dict, dict, dict]:
    """Per param: the words examples put just before and just after it, and whether a duration param is
    about the future ("for the next {horizon}", "未来{horizon}")."""
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    future: dict[str, bool] = {}
    for ex in examples:
        low = ex.lower()
        for mt in re.finditer(r"\{(\w+)\}", low):
            name = mt.group(1)
            spec = rule.params.get(name)
            if spec is None:
                continue
            before, after = low[:mt.start()].rstrip(), low[mt.end():].lstrip()
            if spec.type == "text":
                cjk = re.search(r"([\u3400-\u9fff]{1,2})$", before)
                word = re.search(r"([a-z]+)$", before)
                if cjk:
                    left.setdefault(name, []).append(cjk.group(1))
                elif word and not before.endswith("}"):
                    left.setdefault(name, []).append(word.group(1))
                cjk = re.match(r"^([\u3400-\u9fff])", after)
                word = re.match(r"^([a-z]+)", after)
                if cjk:
                    right.setdefault(name, []).append(cjk.group(1))
                elif word:
                    right.setdefault(name, []).append(word.group(1))
            if spec.type == "duration":
                if re.search(r"(next|coming|upcoming|未来|接下来)\s*$", before):
                    future[name] = True
                else:
                    future.setdefault(name, False)
    return left, right, future


def _template(text: str, params: dict, rule: Rule) -> str:
    """A confirmed example with its param values replaced by `{name}` placeholders."""
    out = text
    for name, value in sorted(params.items(), key=lambda kv: -len(str(kv[1]))):
        if name not in rule.params or value is None or str(value) == "":
            continue
        v = str(value)
        k = out.lower().find(v.lower())
        if k >= 0:
            # swallow surrounding quotes
            a, b = k, k + len(v)
            if a > 0 and b < len(out) and out[a - 1] in "`'\"“「" and out[b] in "`'\"”」":
                a, b = a - 1, b + 1
            out = out[:a] + "{" + name + "}" + out[b:]
    return out
