"""Structured-output modes, per server. Servers that speak the OpenAI protocol differ in how they take a
JSON schema for the answer:

- `json_schema`: `response_format: {type: json_schema, json_schema: {strict, schema}}`: OpenAI, vLLM,
  Ollama (0.5+), llama.cpp's `llama-server`.
- `json_object`: `response_format: {type: json_object, schema: …}`: llama-cpp-python's server (which
  refuses json_schema with HTTP 500 "Input should be 'text' or 'json_object'"); servers that ignore the
  `schema` key still get JSON mode, and the schema travels in the prompt as well.
- `grammar`: no `response_format` at all; llama.cpp's own request field `json_schema`, which the server
  compiles to a GBNF grammar (older llama.cpp builds that know no response_format).

`auto` starts with json_schema and, when the server answers any 4xx/5xx naming the response format, moves
to the next mode once and remembers it for that endpoint (the client object), never retrying per request.
"""

from __future__ import annotations

import json
from typing import Any

MODES = ("json_schema", "json_object", "grammar")
CHOICES = (*MODES, "auto")
SCHEMA_NAME = "task"
# Words a server's refusal uses when it is about the structured-output part of the request.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "grammar")


def first_mode(configured: str) -> str:
    return MODES[0] if configured == "auto" else configured


def next_mode(mode: str) -> str | None:
    """The mode `auto` tries after `mode` is refused; None after the last."""
    i = MODES.index(mode)
    return MODES[i + 1] if i + 1 < len(MODES) else None


def request_parts(schema: dict[str, Any], mode: str, name: str = SCHEMA_NAME) -> dict[str, Any]:
    """The keyword arguments of a chat completion that carry the schema in `mode`: `response_format`
    and/or `extra_body` (fields the OpenAI SDK does not know)."""
    if mode == "json_schema":
        fmt = {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
        return {"response_format": fmt}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if mode == "grammar":
        return {"extra_body": {"json_schema": schema}}
    raise ValueError(f"unknown structured-output mode {mode!r}; use one of {', '.join(CHOICES)}")


def schema_in_prompt(mode: str) -> bool:
    """Whether the prompt must spell out the schema (the server may not hold the answer to it)."""
    return mode != "json_schema"


def refuses_format(status: int | None, message: str, body: object) -> bool:
    """An error answer that is about the structured-output part of the request (any 4xx/5xx but rate
    limits and authentication, naming response_format / json_schema / the accepted types)."""
    if status is None or status < 400 or status in (401, 403, 404, 408, 429):
        return False
    text = f"{message} {json.dumps(body, default=str) if body is not None else ''}".lower()
    return any(word in text for word in _FORMAT_WORDS)
