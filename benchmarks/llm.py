"""Prompt size and LLM calls per request, measured against the local fake OpenAI server.

`bench_prompt_tokens()` generates rule catalogues of 20 and 200 synthetic rules and, for a set of
requests, counts the input tokens (messages + response schema, cl100k_base) of the prompt the LLM
parser sends (top-k candidate rules) against a prompt that lists every rule (the same template and
schema with all intents). Target: at 200 rules, our prompt is at most 0.2x the full one. It also sends
a mixed batch through `--parser auto` and counts the requests arriving at the server: one per request
that the offline parser hands over, none for the rest.
"""

from __future__ import annotations

import statistics
from typing import Any

from opsbot.config import Config
from opsbot.parsing.factory import build_parser
from opsbot.parsing.prompt import Prompt, build_messages, count_prompt_tokens
from opsbot.parsing.schema import response_format, task_schema
from opsbot.rules.loader import RuleSet, check_rules
from opsbot.rules.schema import ActionSpec, Examples, ParamSpec, Rule
from opsbot.testing.fake_openai import FakeOpenAI, answer

TARGET_RATIO = 0.2

VERBS = [
    ("restart", "重启"),
    ("check", "检查"),
    ("show", "查看"),
    ("list", "列出"),
    ("drain", "排空"),
    ("rotate", "轮换"),
    ("flush", "刷新"),
    ("warm", "预热"),
    ("snapshot", "快照"),
    ("backup", "备份"),
    ("restore", "恢复"),
    ("tail", "跟踪"),
    ("count", "统计"),
    ("compare", "对比"),
    ("audit", "审计"),
    ("sync", "同步"),
    ("pause", "暂停"),
    ("resume", "恢复运行"),
    ("promote", "提升"),
    ("inspect", "检视"),
]
NOUNS = [
    ("cache", "缓存"),
    ("queue", "队列"),
    ("index", "索引"),
    ("bucket", "存储桶"),
    ("certificate", "证书"),
    ("replica", "副本"),
    ("pool", "连接池"),
    ("cron job", "定时任务"),
    ("feature flag", "功能开关"),
    ("tenant", "租户"),
]


def synthetic_rules(n: int) -> RuleSet:
    """`n` distinct rules (verb x noun), with examples in English and Chinese and typical params."""
    rules = []
    for i in range(n):
        (verb, zverb), (noun, znoun) = VERBS[i % len(VERBS)], NOUNS[(i // len(VERBS)) % len(NOUNS)]
        slug = noun.replace(" ", "_")
        params: dict[str, ParamSpec] = {"host": ParamSpec(type="host", required=i % 3 == 0)}
        if i % 2 == 0:
            params["window"] = ParamSpec(type="duration", default="1h", max="30d")
        if i % 5 == 0:
            params["count"] = ParamSpec(type="integer", min=1, max=100)
        if i % 7 == 0:
            params["level"] = ParamSpec(type="enum", values=["low", "normal", "high"])
        rules.append(
            Rule(
                intent=f"{slug}.{verb}" + ("" if i < len(VERBS) * len(NOUNS) else f"_{i}"),
                summary=f"{verb.capitalize()} the {noun} of a host (synthetic rule {i})",
                examples=Examples(
                    en=[f"{verb} the {noun} on {{host}}", f"please {verb} {noun} for {{host}}"],
                    zh=[f"{zverb} {{host}} 的{znoun}"],
                ),
                params=params,
                action=ActionSpec(executor="bot", kind="help"),
            )
        )
    problems = check_rules(rules)
    assert not problems, problems
    return RuleSet(rules)


def bench_config(base_url: str | None = None) -> Config:
    hosts = {
        f"node-{i}": {"address": "127.0.0.1", "groups": [f"zone-{i % 4}"], "services": ["app", "cache"]}
        for i in range(24)
    }
    return Config(
        inventory={"hosts": hosts},
        rules={"defaults": False},
        llm={"base_url": base_url, "api_key": "bench", "model": "fake-model", "timeout": 5},
    )


def requests_for(rules: RuleSet, count: int = 20) -> list[str]:
    """Loose paraphrases the offline parser is unsure about, spread over the catalogue."""
    out = []
    for j in range(count):
        rule = rules.rules[(j * 7) % len(rules.rules)]
        noun = rule.summary.split(" the ", 1)[1].split(" of a host")[0]
        verb = rule.summary.split(" ")[0].lower()
        out.append(f"hey, could somebody maybe {verb} that {noun} thingy over on node-{j % 24}? cheers")
    return out


def _first_candidate(body: dict) -> dict:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    intents = [i for i in (schema.get("properties", {}).get("intent", {}).get("enum") or []) if i]
    return answer(intents[0] if intents else None, {})


def _measure(n: int, server: FakeOpenAI) -> dict[str, Any]:
    rules = synthetic_rules(n)
    config = bench_config(server.base_url)
    prompt = Prompt()
    parser = build_parser(config, "llm", rules=rules)
    texts = requests_for(rules)
    before = server.calls
    ours = []
    for text in texts:
        task = parser.parse(text)
        body = server.requests[-1]
        ours.append(count_prompt_tokens(body["messages"], body.get("response_format")))
        assert task.usage.get("llm_calls") == 1, task.usage
    calls = server.calls - before
    every = rules.intents()
    full = []
    for text in texts:
        schema = task_schema(rules, config, every)
        messages = build_messages(prompt, rules, config, text, every, None, [], None)
        full.append(count_prompt_tokens(messages, response_format(schema, "json_schema")))
    p50_ours, p50_full = statistics.median(ours), statistics.median(full)
    return {
        "rules": n,
        "requests": len(texts),
        "server_calls": calls,
        "top_k": config.llm.top_k_rules,
        "prompt_tokens_p50": int(p50_ours),
        "prompt_tokens_max": max(ours),
        "full_prompt_tokens_p50": int(p50_full),
        "ratio": round(p50_ours / p50_full, 3),
    }


def _calls_per_request(server: FakeOpenAI) -> dict[str, Any]:
    """A mixed batch through --parser auto: confident offline parses make no call, the rest one each."""
    rules = synthetic_rules(20)
    config = bench_config(server.base_url)
    parser = build_parser(config, "auto", rules=rules)
    texts = [f"restart the cache on node-{i}" for i in range(10)] + requests_for(rules, 10)
    before = server.calls
    routed = 0
    for text in texts:
        task = parser.parse(text)
        routed += str(task.usage.get("route", "")).startswith("llm")
    calls = server.calls - before
    return {
        "requests": len(texts),
        "routed_to_llm": routed,
        "server_calls": calls,
        "calls_per_llm_request": round(calls / routed, 3) if routed else 0.0,
        "one_call_per_request": calls == routed,
    }


def bench_prompt_tokens() -> dict[str, Any]:
    with FakeOpenAI(responder=_first_candidate) as server:
        small, large = _measure(20, server), _measure(200, server)
        calls = _calls_per_request(server)
    return {
        "rules_20": small,
        "rules_200": large,
        "target_ratio_200": TARGET_RATIO,
        "ratio_ok": large["ratio"] <= TARGET_RATIO,
        "calls": calls,
    }


def main() -> int:
    r = bench_prompt_tokens()
    for key in ("rules_20", "rules_200"):
        m = r[key]
        print(
            f"{m['rules']:>4} rules: prompt p50 {m['prompt_tokens_p50']} tokens (max {m['prompt_tokens_max']}) "
            f"vs every rule {m['full_prompt_tokens_p50']}: {m['ratio']:.3f}x; "
            f"{m['server_calls']} calls for {m['requests']} requests"
        )
    c = r["calls"]
    print(
        f"auto: {c['requests']} requests, {c['routed_to_llm']} to the LLM, {c['server_calls']} calls at the server "
        f"({c['calls_per_llm_request']} per LLM request)"
    )
    print(f"target at 200 rules <= {TARGET_RATIO}x: {'met' if r['ratio_ok'] else 'MISSED'}")
    return 0 if r["ratio_ok"] and c["one_call_per_request"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
