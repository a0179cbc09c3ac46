"""Fixtures for the LLM parser specs: the real `openai` client against the local fake OpenAI server
(opsbot.testing.fake_openai, 127.0.0.1 only), the dev inventory, the default rule packs, and a real
SQLite store in a temporary directory."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from opsbot.config import load_config
from opsbot.parsing.factory import build_parser
from opsbot.rules.loader import load_for
from opsbot.store import Store
from opsbot.testing.fake_openai import FakeOpenAI

HERE = Path(__file__).parent
DEV_CONFIG = HERE / "dev-config.yaml"


@pytest.fixture(autouse=True)
def _no_outside_llm(monkeypatch):
    """Nothing from the environment may point the client elsewhere."""
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    with FakeOpenAI() as s:
        yield s


@pytest.fixture
def config(server, tmp_path):
    cfg = load_config(DEV_CONFIG)
    cfg.llm.base_url = server.base_url
    cfg.llm.api_key = "sk-test-local-only"
    cfg.llm.model = "fake-model"
    cfg.llm.timeout = 2.0
    cfg.llm.max_retries = 2
    cfg.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    return cfg


@pytest.fixture
def rules(config):
    return load_for(config)


@pytest.fixture
def store(config):
    s = Store.open(config.database_url)
    yield s
    s.close()


@pytest.fixture
def llm(config, rules, store):
    """`--parser llm`: every parse asks the LLM."""
    return build_parser(config, "llm", rules=rules, store=store)


@pytest.fixture
def auto(config, rules, store):
    return build_parser(config, "auto", rules=rules, store=store)


@pytest.fixture
def unreachable_url() -> str:
    """A loopback URL where nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/v1"
