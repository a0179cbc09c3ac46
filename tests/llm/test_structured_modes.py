"""Structured-output modes against the local OpenAI-compatible server imitating the servers people run
(OpenAI, vLLM, Ollama, llama.cpp's llama-server, llama-cpp-python): in `auto` the mode that works is
learned once per endpoint from how the server answers, a fixed mode is used as configured, `opsbot llm
check` reports it, and a reply after an LLM failure says so in one line."""

import pytest

from opsbot.app import build_app
from opsbot.cli import main
from opsbot.core.request import Request
from opsbot.frontends.console import render
from opsbot.parsing.factory import build_parser
from opsbot.testing.fake_openai import FakeOpenAI, answer, llama_cpp_python_refusal

pytestmark = pytest.mark.servers


def formats(server):
    return [(r.get("response_format") or {}).get("type") for r in server.requests]


@pytest.mark.parametrize("profile", ["openai", "vllm", "ollama", "llama-server"])
def test_servers_with_json_schema_get_strict_json_schema_in_one_request(profile, config, rules):
    with FakeOpenAI(profile=profile) as server:
        config.llm.base_url = server.base_url
        parser = build_parser(config, "llm", rules=rules)
        server.push(answer("process.top", {"host": "web-1"}))
        task = parser.parse("what is hogging web-1")
        assert server.calls == 1 and formats(server) == ["json_schema"]
        assert server.requests[0]["response_format"]["json_schema"]["strict"] is True
        assert task.parser == "llm" and task.intent == "process.top"


def test_llama_cpp_python_refuses_json_schema_with_a_500_once_then_json_object_with_the_schema(config, rules):
    with FakeOpenAI(profile="llama-cpp-python") as server:
        config.llm.base_url = server.base_url
        parser = build_parser(config, "llm", rules=rules)
        server.push(answer("process.top", {"host": "web-1"}), answer("process.top", {"host": "web-2"}))
        first = parser.parse("what is hogging web-1")
        # the 500 names response_format: not retried as a server error, the next mode at once
        assert formats(server) == ["json_schema", "json_object"]
        sent = server.requests[1]["response_format"]
        assert sent["schema"]["properties"]["intent"]["enum"][-1] is None
        assert first.parser == "llm" and first.params == {"host": "web-1"}
        assert first.usage["response_format"] == "json_object" and "fallback" not in first.usage
        second = parser.parse("what is hogging web-2")
        assert formats(server) == ["json_schema", "json_object", "json_object"]  # remembered
        assert second.params == {"host": "web-2"}


def test_a_mode_fixed_by_config_is_used_and_its_refusal_is_not_retried(config, rules):
    with FakeOpenAI(profile="llama-cpp-python") as server:
        config.llm.base_url = server.base_url
        config.llm.structured = "json_schema"
        task = build_parser(config, "llm", rules=rules).parse("top processes on web-1")
        assert server.calls == 1
        assert task.parser == "offline" and task.intent == "process.top"
        assert "refused the json_schema response format" in task.note
        assert task.usage["fallback_kind"] == "format"


def test_grammar_mode_sends_no_response_format_but_llama_cpps_own_schema_field(config, rules):
    with FakeOpenAI(profile="llama-server") as server:
        config.llm.base_url = server.base_url
        config.llm.structured = "grammar"
        server.push(answer("process.top", {"host": "web-1"}))
        task = build_parser(config, "llm", rules=rules).parse("what is hogging web-1")
        body = server.requests[0]
        assert "response_format" not in body and body["json_schema"]["required"] == ["intent", "params", "confidence"]
        assert '"enum": [' in body["messages"][0]["content"]  # and the schema is in the prompt
        assert task.parser == "llm" and task.usage["response_format"] == "grammar"


def test_openai_refuses_llama_cpps_field_so_grammar_mode_there_falls_back_with_a_reason(config, rules):
    with FakeOpenAI(profile="openai") as server:
        config.llm.base_url = server.base_url
        config.llm.structured = "grammar"
        task = build_parser(config, "llm", rules=rules).parse("top processes on web-1")
        assert server.calls == 1 and task.parser == "offline" and "refused the grammar" in task.note


def test_a_plain_server_error_is_still_retried_as_before(llm, server):
    server.push(*[{"status": 500, "error": {"message": "CUDA out of memory"}, "headers": {}}] * 3)
    task = llm.parse("top processes on web-1")
    assert server.calls == 3 and "server error (500) after 3 attempts" in task.note


@pytest.mark.parametrize(
    ("profile", "mode", "calls"),
    [("openai", "json_schema", 1), ("ollama", "json_schema", 1), ("llama-cpp-python", "json_object", 2)],
)
def test_llm_check_reports_the_mode_that_works_latency_and_tokens(profile, mode, calls, tmp_path, capsys):
    with FakeOpenAI(profile=profile, responder=lambda body: {"content": '{"ok": true}'}) as server:
        cfg = tmp_path / "opsbot.yaml"
        cfg.write_text(f"llm: {{base_url: '{server.base_url}', model: small, timeout: 5}}\n")
        assert main(["llm", "check", "--config", str(cfg)]) == 0
        out = capsys.readouterr().out
        assert f"ok: structured output {mode}" in out and f"{calls} request(s)" in out
        assert " ms, " in out and "prompt + " in out and server.calls == calls


def test_llm_check_fails_with_the_reason_when_no_mode_works(tmp_path, capsys):
    with FakeOpenAI(responder=lambda body: llama_cpp_python_refusal()) as server:
        cfg = tmp_path / "opsbot.yaml"
        cfg.write_text(f"llm: {{base_url: '{server.base_url}', timeout: 5}}\n")
        assert main(["llm", "check", "--config", str(cfg)]) == 1
        out = capsys.readouterr().out
        assert "json_schema → json_object → grammar" in out and "refused the grammar response format" in out


def test_a_reply_after_an_llm_failure_says_so_in_one_line(config, tmp_path):
    with FakeOpenAI(profile="llama-cpp-python") as server:
        config.llm.base_url = server.base_url
        config.llm.structured = "json_schema"
        with build_app(config, "llm") as app:
            reply = app.pipeline.handle(Request(text="help", user="alice", channel="c", thread="t", frontend="test"))
            shown = render(reply, lambda: tmp_path)
            notes = [line for line in shown.splitlines() if "LLM not used" in line]
            assert notes == [
                "_LLM not used: the LLM server refused the structured-output format; the offline parser answered._"
            ]
            zh = app.pipeline.handle(Request(text="你能做什么", user="alice", channel="c", thread="z", frontend="test"))
            assert "未使用 LLM" in zh.text


def test_a_reply_the_llm_parsed_carries_no_note(config, server, tmp_path):
    with build_app(config, "llm") as app:
        server.push(answer("help"))
        reply = app.pipeline.handle(Request(text="help", user="alice", channel="c", thread="t", frontend="test"))
        assert "LLM not used" not in reply.text
