"""The prompt stays small as the catalogue grows (top-k rules, not all of them), and `--parser auto`
makes one LLM call per request it hands over and none for the rest."""

import pytest

from benchmarks.llm import TARGET_RATIO, bench_prompt_tokens, synthetic_rules


def test_synthetic_catalogues_load_as_rules():
    assert len(synthetic_rules(200).intents()) == 200


@pytest.mark.servers  # the benchmark's own fake OpenAI server
def test_prompt_tokens_at_200_rules_are_at_most_a_fifth_of_listing_every_rule():
    r = bench_prompt_tokens()
    print(r)
    small, large = r["rules_20"], r["rules_200"]
    assert large["ratio"] <= TARGET_RATIO and r["ratio_ok"]
    assert large["prompt_tokens_p50"] < 1.3 * small["prompt_tokens_p50"]  # flat in the catalogue size
    assert small["server_calls"] == small["requests"] and large["server_calls"] == large["requests"]
    calls = r["calls"]
    assert 0 < calls["routed_to_llm"] < calls["requests"]
    assert calls["server_calls"] == calls["routed_to_llm"] and calls["one_call_per_request"]
