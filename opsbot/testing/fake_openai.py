"""A local OpenAI-compatible server for tests and benchmarks: POST /v1/chat/completions, answered from
a script, with every request body recorded. The real `openai` client talks to it over HTTP.

    with FakeOpenAI() as server:
        server.push(answer("service.restart", {"service": "nginx", "host": "web-1"}),
                    status(429, retry_after_ms=10), malformed("{not json"), slow(3.0, answer(None)))
        config.llm.base_url = server.base_url
        ...
        server.requests[0]["response_format"]      # what the client sent

Script items (plain dicts, built by the helpers below) are used one per request, in order:
  answer(intent, params, confidence)  200, the JSON answer as the message content
  content(text)                       200, any text as the content (malformed JSON, prose...)
  status(code, message, ...)          an error response (429 / 500 / 400 ...), optional Retry-After
  json_schema_unsupported()           the 400 llama.cpp-style servers give for response_format json_schema
  slow(seconds, item)                 wait, then answer with `item` (a client with a shorter timeout gives up)
When the script is empty, `responder(body) -> item` answers (default: a 500 saying so).
`reject_json_schema=True` makes the server behave like one without json_schema support: every such
request gets the 400, without using a script item.
`profile=` imitates how a real server answers the structured-output part of a request (PROFILES,
from each server's documentation and observed answers); a refusal uses no script item:
  openai            json_schema and json_object; 400 for a request field it does not know (`json_schema`)
  vllm, ollama      json_schema and json_object; unknown fields ignored
  llama-server      json_schema, json_object with a schema, and its own `json_schema` field (grammar)
  llama-cpp-python  HTTP 500 "Input should be 'text' or 'json_object'" for json_schema (0.3.x);
                    json_object with a schema, and a grammar
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opsbot.parsing.prompt import count_prompt_tokens, count_tokens
from opsbot.testing.threaded import ThreadedServer


def answer(intent: str | None, params: dict | None = None, confidence: float = 0.9, **extra: Any) -> dict:
    return {"content": json.dumps({"intent": intent, "params": params or {}, "confidence": confidence, **extra})}


def content(text: str, usage: bool = True) -> dict:
    return {"content": text, "usage": usage}


def malformed(text: str = '{"intent": "service.restart", "params": {"service": "nginx"') -> dict:
    return content(text)


def status(
    code: int,
    message: str = "fake error",
    retry_after_ms: int | None = None,
    param: str | None = None,
    kind: str = "server_error",
) -> dict:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return {
        "status": code,
        "error": {"message": message, "type": kind, "param": param, "code": None},
        "headers": headers,
    }


def json_schema_unsupported() -> dict:
    return status(
        400,
        "response_format type 'json_schema' is not supported by this server; use 'json_object'",
        param="response_format",
        kind="invalid_request_error",
    )


def llama_cpp_python_refusal() -> dict:
    """What llama-cpp-python's server (0.3.x) answers to `response_format: {type: json_schema}`: its
    request model allows only text and json_object, and its error handler turns the validation error
    into an HTTP 500."""
    detail = (
        "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
        "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
        "'ctx': {'expected': \"'text' or 'json_object'\"}}]"
    )
    return status(500, detail, kind="internal_server_error")


def _openai_refusal(body: dict) -> dict | None:
    for name in ("json_schema", "grammar"):
        if name in body:
            return status(
                400, f"Unrecognized request argument supplied: {name}", param=name, kind="invalid_request_error"
            )
    return None


def _llama_cpp_python_refusal(body: dict) -> dict | None:
    fmt = (body.get("response_format") or {}).get("type")
    return llama_cpp_python_refusal() if fmt not in (None, "text", "json_object") else None


PROFILES: dict[str, Callable[[dict], dict | None]] = {
    "permissive": lambda body: None,
    "openai": _openai_refusal,
    "vllm": lambda body: None,
    "ollama": lambda body: None,
    "llama-server": lambda body: None,
    "llama-cpp-python": _llama_cpp_python_refusal,
}


def slow(seconds: float, then: dict | None = None) -> dict:
    return {**(then or answer(None)), "delay": seconds}


class FakeOpenAI(ThreadedServer):
    def __init__(
        self,
        script: list[dict] | None = None,
        responder: Callable[[dict], dict] | None = None,
        reject_json_schema: bool = False,
        model: str = "fake-model",
        profile: str = "permissive",
    ):
        if profile not in PROFILES:
            raise ValueError(f"unknown server profile {profile!r}; known: {', '.join(PROFILES)}")
        self.profile = profile
        self.script: deque[dict] = deque(script or [])
        self.responder = responder
        self.reject_json_schema = reject_json_schema
        self.model = model
        self.requests: list[dict] = []  # every POST body, in arrival order
        self.headers: list[dict] = []  # their headers, names in lower case
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    fake._send(self, 200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
                else:
                    fake._send(self, 404, {"error": {"message": "not found"}})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._run_in_thread(server, "fake-openai", poll_interval=0.05)
        return self

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # --- script ------------------------------------------------------------------------------------

    def push(self, *items: dict) -> FakeOpenAI:
        with self._lock:
            self.script.extend(items)
        return self

    @property
    def calls(self) -> int:
        return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.script.clear()

    # --- HTTP --------------------------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("content-length") or 0)
        raw = http.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(http, 400, {"error": {"message": "body is not JSON"}})
            return
        if not http.path.rstrip("/").endswith("/chat/completions"):
            self._send(http, 404, {"error": {"message": f"no route {http.path}"}})
            return
        with self._lock:
            self.requests.append(body)
            self.headers.append({k.lower(): v for k, v in http.headers.items()})
            fmt = (body.get("response_format") or {}).get("type")
            refusal = PROFILES[self.profile](body)
            if refusal is not None:
                item = refusal
            elif self.reject_json_schema and fmt == "json_schema":
                item = json_schema_unsupported()
            elif self.script:
                item = self.script.popleft()
            elif self.responder is not None:
                item = None
            else:
                item = status(500, "fake server: the script is empty")
        if item is None:
            assert self.responder is not None  # chosen above
            item = self.responder(body)
        if item.get("delay"):
            self._stopping.wait(item["delay"])
        if "status" in item:
            self._send(http, item["status"], {"error": item["error"]}, item.get("headers"))
            return
        text = item["content"]
        reply: dict[str, Any] = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        }
        if item.get("usage", True):
            prompt = count_prompt_tokens(body.get("messages") or [], body.get("response_format"))
            done = count_tokens(text)
            reply["usage"] = {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}
        self._send(http, 200, reply)

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, code: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            http.send_response(code)
            http.send_header("content-type", "application/json")
            http.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                http.send_header(k, v)
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before we answered
