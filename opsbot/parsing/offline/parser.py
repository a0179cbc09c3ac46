"""The offline intent parser: no network, no model, deterministic. Its stages, one module each:

1. entities.py — find the values in the message: inventory names from the config, durations, numbers,
   quoted text, PromQL, versions, enum words from the rules.
2. tokens.py, index.py — replace them by placeholders and compare the message with every rule example
   through an inverted tf-idf index: English words stemmed with a few synonyms (lexicon.py), Chinese as
   character n-grams.
3. ranking.py — weigh each intent by how well the values found fit its params.
4. safety.py — the gates: a state-changing intent needs a clear verb of its own, its object and a higher
   score; a destructive word that the intent's examples never use vetoes any intent.
5. slots.py — fill the chosen rule's params by type; report required ones that are missing, never guess.
6. choices.py — when guessing would be wrong ("check web-1", "free disk space on db-1"), the readings
   to choose from instead of an intent.
7. followups.py — "and on web-2?" continues the previous task, under the follow-up contract.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from opsbot.config import Config
from opsbot.core.request import MAX_CHARS
from opsbot.core.task import Choice, Suggestion, Task
from opsbot.parsing.offline import choices, phrasing
from opsbot.parsing.offline.entities import (
    KIND_OF_TYPE,
    Extraction,
    KnownNames,
    extract,
    normalise_text,
    placeholder_for,
)
from opsbot.parsing.offline.example_cache import cached_tokens
from opsbot.parsing.offline.followups import follow_up, is_follow_up
from opsbot.parsing.offline.index import ExampleIndex, IntentInfo, contexts, signals_of, template
from opsbot.parsing.offline.lexicon import normalise_word, stem
from opsbot.parsing.offline.ranking import Analysis, confidence, rank
from opsbot.parsing.offline.safety import (
    CHANGE_THRESHOLD,
    NOT_SURE_OF_CHANGE,
    READ_THRESHOLD,
    change_asked,
    has_object,
    has_own_verb,
    owner_of_verb,
    refusal,
    vetoed,
)
from opsbot.parsing.offline.slots import assign
from opsbot.parsing.offline.tokens import Tokenizer
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import Rule

KB_INTENT = "kb.ask"  # questions for the runbooks (rules/knowledge.yaml)


def whole_message(rule: Rule, text: str) -> dict[str, Any]:
    """The params a rule fills with the whole message (`from_message`: a question asked in words)."""
    return {name: text.strip()[: spec.max_length] for name, spec in rule.params.items() if spec.from_message}


class OfflineParser:
    name = "offline"

    def __init__(
        self,
        rules: RuleSet,
        config: Config,
        learned: Iterable[dict[str, Any]] = (),
        cache_dir: Path | None = None,
    ):
        """`cache_dir`: where the examples' tokens are kept between runs (example_cache.py); None: nowhere."""
        self.rules = rules
        self.config = config
        confirmed = [
            d
            for d in (learned or ())
            if isinstance(d, dict) and d.get("intent") in rules.by_intent and isinstance(d.get("text"), str)
        ]
        # (intent, text with {placeholders}, rule, weight, learned)
        examples: list[tuple[str, str, Rule, float, bool]] = []
        for intent, group in rules.by_intent.items():
            primary = self._primary(intent)
            for rule in group:
                for example in rule.examples.en + rule.examples.zh:
                    examples.append((intent, example, rule, 1.0, False))
            examples.append((intent, primary.summary, primary, 0.7, False))
        for d in confirmed:
            primary = self._primary(d["intent"])
            examples.append((d["intent"], template(d["text"], d.get("params") or {}, primary), primary, 1.0, True))

        self.vocabulary: set[str] = set()  # English words of the rules' examples
        for _, text, _, _, _ in examples:
            for w in re.findall(r"[a-z]+", re.sub(r"\{\w+\}", " ", text.lower())):
                self.vocabulary.add(w)
                self.vocabulary.add(stem(w))
        self.names = KnownNames(config, rules, self.vocabulary)
        self.host_of: Mapping[str, str] = {name: d.host for name, d in config.inventory.deployments.items() if d.host}
        self.index = ExampleIndex()
        self.tokenizer = Tokenizer(self.vocabulary, self.index)

        def tokenize() -> list[list[str]]:
            return [
                self.tokenizer.tokens(extract(normalise_text(text), self.names, placeholders=rule.params), query=False)
                for _, text, rule, _, _ in examples
            ]

        # what the tokens depend on besides the names: each text and the placeholders its params become
        inputs = [
            (text, {name: placeholder_for(name, spec) for name, spec in rule.params.items()})
            for _, text, rule, _, _ in examples
        ]
        vocab: dict[str, set[str]] = {i: set() for i in rules.by_intent}
        texts: dict[str, list[str]] = {i: [] for i in rules.by_intent}
        tokens = cached_tokens(cache_dir, self.names, inputs, tokenize)
        for (intent, text, _, weight, is_learned), toks in zip(examples, tokens, strict=True):
            self.index.add(intent, toks, weight, learned=is_learned)
            if weight >= 1.0:
                vocab[intent].update(toks)
                texts[intent].append(text.lower())
        self.index.build()

        self.info: dict[str, IntentInfo] = {}
        for intent, group in rules.by_intent.items():
            primary = self._primary(intent)
            kinds: set[str] = set()
            for spec in primary.params.values():
                kinds |= KIND_OF_TYPE.get(spec.type, set())
            left, right, future = contexts(primary, [e for i, e, _, w, _ in examples if i == intent and w >= 1.0])
            self.info[intent] = IntentInfo(
                intent,
                primary,
                any(r.changes_state for r in group),
                kinds,
                vocab[intent],
                "\n".join(texts[intent]),
                signals_of(intent, vocab[intent], self.index),
                left,
                right,
                future,
            )

    def _primary(self, intent: str) -> Rule:
        rule = self.rules.primary(intent)
        assert rule is not None, intent  # callers pass intents of this rule set
        return rule

    # ------------------------------------------------------------------------------------ public API

    def parse(self, text: str, previous: Task | None = None) -> Task:
        if len(text) > MAX_CHARS:  # a pasted log, not a request: refuse fast rather than scan it
            return Task(
                intent=None,
                parser=self.name,
                note=f"the message is {len(text)} characters; requests are at most {MAX_CHARS}",
            )
        a = self.analyse(text)
        if (
            previous is not None
            and previous.intent in self.info
            and previous.intent != KB_INTENT  # a question for the runbooks is answered; nothing follows it up
            and is_follow_up(self, a, previous)
        ):
            task = follow_up(self, a, previous)
            if task is not None:
                return task
        task = self.decide(a)
        if previous is not None and previous.params and ((task.intent is None and not task.choices) or task.missing):
            # "重启一下" / "restart it" after a question about nginx on web-2: the thread says what "it" is
            carried = self.decide(a, carry=previous.params)
            if carried.intent is not None and not carried.missing:
                carried.note = "the request's object comes from the previous one"
                return carried
        return task

    def rank(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """The k intents closest to the text, best first. Intents that share no content word with it come
        last, ordered by their raw similarity, so a caller always gets k candidates (when there are k)."""
        a = self.analyse(text, limit=max(k, 10))
        out = list(a.ranked[:k])
        if len(out) < k:
            seen = {i for i, _ in out}
            raw = self.index.scores(a.tokens, gated=False)
            rest = sorted(
                ((i, round(min(s, out[-1][1] if out else 1.0) * 0.5, 4)) for i, (s, _) in raw.items() if i not in seen),
                key=lambda x: (-x[1], x[0]),
            )
            rest += sorted((i, 0.0) for i in self.info if i not in seen and i not in raw)
            out += rest[: k - len(out)]
        return out

    # ------------------------------------------------------------------------------------ stages

    def analyse(self, text: str, limit: int = 10) -> Analysis:
        norm = normalise_text(text or "").strip()
        ex = extract(norm, self.names)
        toks = self.tokenizer.tokens(ex, query=True)
        raw = self.index.scores(toks)
        learned = {i for i, (_, doc) in raw.items() if doc in self.index.learned}
        return Analysis(norm, ex, toks, rank(self.info, ex, toks, raw, learned, limit), learned)

    def known_word(self, word: str) -> bool:
        """A word some example uses (so it is no free text of the user's own)."""
        return word in self.vocabulary or normalise_word(word) in self.index.idf or stem(word) in self.vocabulary

    def params_for(self, info: IntentInfo, ex: Extraction) -> tuple[dict[str, Any], list[tuple[int, int]]]:
        """The intent's params from the message's values (slots.py), and the spans handed over verbatim."""
        return assign(info, ex, self.known_word, self.host_of)

    def decide(self, a: Analysis, carry: dict[str, Any] | None = None) -> Task:
        """The best of the closest intents that passes the safety gates, with its params; else no intent
        (with choices when guessing would be wrong). `carry` holds values a follow-up keeps from the
        previous task: they fill params the message does not name."""
        ranked = a.ranked
        # only with runbooks to answer from: without them a "how do I restart…" is still the request it names
        if KB_INTENT in self.info and self.config.knowledge.sources and phrasing.asks_knowledge(a.text):
            return self._knowledge(a)
        if not a.text or not ranked:
            return choices.unsure(self, a, "no rule matches")
        top = ranked[0][1]
        why = "no rule matches well"
        looks_only = phrasing.read_only(a.text)
        for intent, score in ranked[:3]:
            if score < top - 0.15:
                break
            if intent == KB_INTENT:
                continue  # only a question phrased as one (asks_knowledge) goes to the runbooks, never a look-alike
            info = self.info[intent]
            params, spans = self.params_for(info, a.ex)
            params = {**self._carried(info, carry or {}, params), **params}
            word = vetoed(a, info, spans)
            if word:
                return self.null(ranked, refusal(word))
            if info.changes_state:
                if looks_only:
                    why = "a question changes nothing"
                    continue  # "is it ok", "还好吗": a read-only intent, or nothing
                # its own verb, or a wording users confirmed for it ("give redis the old off and on")
                if not has_own_verb(a, info):
                    why = NOT_SURE_OF_CHANGE
                    continue  # no verb of its own: maybe a read-only intent fits
                if score < CHANGE_THRESHOLD or not has_object(info, params):
                    return self.null(ranked, NOT_SURE_OF_CHANGE)
                corrected = choices.corrected_names(a, params)
                if corrected:  # "restart nginx on web-l": asked as "did you mean … web-1?", never approved as is
                    return Task(
                        intent=None,
                        parser=self.name,
                        choices=[Choice(intent=intent, params=params)],
                        confidence=confidence(score, 0.0),
                        note=f"corrected {', '.join(corrected)}; asking before any approval",
                    )
                look = choices.look_instead(self, a, info, score, params)
                if look is not None:  # "free disk space on db-1": see it, or free it up?
                    return Task(
                        intent=None,
                        parser=self.name,
                        choices=[look, Choice(intent=intent, params=params)],
                        confidence=confidence(score, 0.0),
                        note="two readings: one looks, one changes; asking which was meant",
                    )
            elif score < READ_THRESHOLD:
                break
            else:
                asked = change_asked(a, info, self.info)
                if asked and not looks_only:
                    # the change the verb belongs to, when it passes every gate of its own ("释放 mq-1 的磁盘空间")
                    task = self._asked_change(a, asked)
                    if task is not None:
                        return task
                    return self.null(ranked, f"{asked!r} asks for a change this request does not name clearly")
                if choices.names_only(info, score, a, params):
                    return choices.unsure(self, a, why)  # "check web-1": a name and a generic verb, no intent
            return self._task(a, info, params)
        return choices.unsure(self, a, why)

    def _knowledge(self, a: Analysis) -> Task:
        """A question for the runbooks (phrasing.asks_knowledge): how things are done is answered from
        them, never by doing it; the actions a runbook names are offered separately, through the rules."""
        info = self.info[KB_INTENT]
        score = dict(a.ranked).get(KB_INTENT, 0.0)
        return Task(
            intent=KB_INTENT,
            params=whole_message(info.rule, a.text),
            confidence=max(0.8, confidence(score, 0.0)),
            parser=self.name,
            note="asks how something is done or who owns it: answered from the runbooks",
        )

    def _carried(self, info: IntentInfo, carry: dict[str, Any], named: dict[str, Any]) -> dict[str, Any]:
        """The previous task's values this intent takes and the message does not replace; a host is not
        carried to a named service it does not run ("重启 mysql" after a question about web-1)."""
        out = {k: v for k, v in carry.items() if k in info.rule.params and k not in named}
        service, hosts = named.get("service"), self.config.inventory.hosts
        if service and "host" in out:
            runs = [hosts[h].services for h in str(out["host"]).split(",") if h in hosts]
            if any(svcs and service not in svcs for svcs in runs):
                del out["host"]
        return out

    def null(self, ranked: list[tuple[str, float]], why: str) -> Task:
        sugg = [Suggestion(intent=i, score=round(s, 3)) for i, s in ranked[:3] if s > 0]
        return Task(intent=None, params={}, confidence=0.0, parser=self.name, suggestions=sugg, note=why)

    def _task(self, a: Analysis, info: IntentInfo, params: dict[str, Any]) -> Task:
        score = dict(a.ranked)[info.intent]
        params = {**params, **whole_message(info.rule, a.text)}
        rest = [s for i, s in a.ranked if i != info.intent]
        missing = [n for n, s in info.rule.params.items() if s.required and n not in params]
        return Task(
            intent=info.intent,
            params=params,
            confidence=confidence(score, rest[0] if rest else 0.0),
            parser=self.name,
            missing=missing,
        )

    def _asked_change(self, a: Analysis, word: str) -> Task | None:
        """The state-changing intent whose own verb `word` is, when it ranks close enough, names its object and
        no destructive word vetoes it; None otherwise."""
        info = owner_of_verb(a, word, self.info)
        if info is None:
            return None
        params, spans = self.params_for(info, a.ex)
        if not has_object(info, params) or vetoed(a, info, spans):
            return None
        return self._task(a, info, params)
