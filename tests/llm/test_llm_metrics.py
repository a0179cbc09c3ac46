"""The bot's /metrics counts what the LLM cost: tokens, calls, estimated cost, and the parses that fell
back to the offline parser, from real chat completions against the local fake OpenAI server."""

from __future__ import annotations

from opsbot.core.request import Request
from opsbot.executors.registry import Executors
from opsbot.pipeline import Pipeline
from opsbot.testing.fake_openai import answer, status


def sample(pipeline: Pipeline, name: str, **labels: str) -> float:
    value = pipeline.metrics.registry.get_sample_value(name, labels or None)
    return value or 0.0


def test_llm_tokens_calls_cost_and_failures_are_counted(config, rules, store, llm, server):
    config.llm.cost_per_1k_input = 1.0
    pipeline = Pipeline(config, rules, store, llm, Executors(config))
    server.push(answer("process.top", {"host": "web-1"}))
    pipeline.handle(Request(text="who hogs the box web-1", user="alice"))
    assert sample(pipeline, "opsbot_llm_calls_total") == 1
    prompt_tokens = sample(pipeline, "opsbot_llm_tokens_total", kind="prompt")
    assert prompt_tokens > 0 and sample(pipeline, "opsbot_llm_tokens_total", kind="completion") > 0
    assert sample(pipeline, "opsbot_llm_cost_total") >= prompt_tokens / 1000 * 1.0 * 0.999
    assert sample(pipeline, "opsbot_parse_seconds_count", parser="llm") == 1

    server.push(status(500), status(500), status(500))  # the retries are spent: the offline parser answers
    pipeline.handle(Request(text="who hogs the box web-1", user="alice"))
    failures = sum(  # whatever the reason label says
        s.value
        for family in pipeline.metrics.registry.collect()
        if family.name == "opsbot_llm_failures"
        for s in family.samples
        if s.name == "opsbot_llm_failures_total"
    )
    assert failures == 1
