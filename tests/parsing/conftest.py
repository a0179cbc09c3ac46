"""Parsers for the offline-parser specs: the default rule packs with two different inventories, so that no
behaviour can depend on one set of host names."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsbot.config.loader import load_config
from opsbot.config.models import Config, DeploymentConfig, HostConfig, Inventory
from opsbot.parsing.offline import OfflineParser
from opsbot.rules.loader import load_rules

HERE = Path(__file__).resolve().parent


def small_lab() -> Config:
    """The small lab of the design brief: two web hosts, a database, a cache, a GPU box with two deployments."""
    h = lambda groups, services: HostConfig(address="127.0.0.1", groups=groups, services=services)
    return Config(
        inventory=Inventory(
            hosts={
                "web-1": h(["web"], ["nginx", "api"]),
                "web-2": h(["web"], ["nginx", "api"]),
                "db-1": h(["db"], ["postgresql"]),
                "cache-1": h(["cache"], ["redis"]),
                "gpu-1": h(["llm"], ["vllm", "llm-gateway"]),
            },
            deployments={
                "llama-chat": DeploymentConfig(host="gpu-1", service="vllm"),
                "reranker": DeploymentConfig(host="gpu-1", service="vllm"),
            },
        )
    )


@pytest.fixture(scope="session")
def state_changing() -> set[str]:
    return {"service.restart", "disk.cleanup", "llm.scale", "llm.deploy", "llm.rollback"}


@pytest.fixture(scope="session")
def rules():
    return load_rules()


@pytest.fixture(scope="session")
def small_lab_config() -> Config:
    return small_lab()


@pytest.fixture(scope="session")
def web(rules) -> OfflineParser:
    """The parser over the small lab: web-1, web-2, db-1, cache-1, gpu-1, llama-chat, reranker."""
    return OfflineParser(rules, small_lab())


@pytest.fixture(scope="session")
def other(rules) -> OfflineParser:
    """The parser over another inventory: api-3, pg-main, es-data-02, redis-eu, kafka-b1, qwen-72b..."""
    return OfflineParser(rules, load_config(HERE / "heldout-config.yaml"))


@pytest.fixture(scope="session", params=["web", "other"])
def any_parser(request, web, other) -> OfflineParser:
    return {"web": web, "other": other}[request.param]
