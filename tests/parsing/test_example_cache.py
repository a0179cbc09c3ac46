"""The examples' tokens kept between runs (example_cache.py): a parser built from the cache parses exactly
as one built without it, and a cache made for other inputs, or damaged, or unwritable, is never trusted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsbot.config.loader import load_config
from opsbot.config.models import Config
from opsbot.parsing.factory import build_parser
from opsbot.parsing.offline import OfflineParser
from opsbot.parsing.offline.entities import KnownNames
from opsbot.parsing.offline.example_cache import FILE_NAME, cached_tokens

HELDOUT_CONFIG = Path(__file__).resolve().parent / "heldout-config.yaml"  # another inventory

MESSAGES = [
    "cpu on web-1 last 6h",
    "restart nginx on web-2",
    "重启 db-1 上的 postgresql",
    "disk usage on the db group",
    "scale llama-chat to 3 replicas",
    "logs for api on web-1 containing timeout since 30m",
    "query `rate(node_cpu_seconds_total[5m])`",
    "check web-1",
    "how do I rotate the postgres logs?",
]


def parses(parser: OfflineParser) -> list[dict]:
    return [parser.parse(m).public() for m in MESSAGES]


class Counting:
    """A compute function that says how often it ran."""

    def __init__(self, tokens):
        self.tokens, self.calls = tokens, 0

    def __call__(self):
        self.calls += 1
        return self.tokens


@pytest.fixture
def names(rules, small_lab_config) -> KnownNames:
    return KnownNames(small_lab_config, rules, {"restart", "disk"})


def test_a_parser_built_from_the_cache_parses_as_one_built_without_it(rules, small_lab_config, tmp_path):
    uncached = parses(OfflineParser(rules, small_lab_config))
    cold = OfflineParser(rules, small_lab_config, cache_dir=tmp_path)
    assert (tmp_path / FILE_NAME).is_file()
    warm = OfflineParser(rules, small_lab_config, cache_dir=tmp_path)
    assert parses(cold) == uncached
    assert parses(warm) == uncached


def test_the_same_inputs_are_read_back_without_computing(names, tmp_path):
    examples = [("restart {service} on {host}", {"service": "<service>", "host": "<host>"})]
    first = Counting([["restart", "<service>", "<host>"]])
    assert cached_tokens(tmp_path, names, examples, first) == first.tokens
    again = Counting([["never", "used"]])
    assert cached_tokens(tmp_path, names, examples, again) == first.tokens
    assert (first.calls, again.calls) == (1, 0)


def test_another_inventory_or_other_examples_compute_afresh(rules, names, tmp_path):
    examples = [("restart {service} on {host}", {"service": "<service>", "host": "<host>"})]
    cached_tokens(tmp_path, names, examples, Counting([["old"]]))
    other_names = KnownNames(load_config(HELDOUT_CONFIG), rules, {"restart", "disk"})
    for changed_names, changed_examples in (
        (other_names, examples),
        (names, [("restart {service} on {host} now", examples[0][1])]),
        (names, [(examples[0][0], {"service": "<enum:service>", "host": "<host>"})]),
    ):
        fresh = Counting([["new"]])
        assert cached_tokens(tmp_path, changed_names, changed_examples, fresh) == [["new"]]
        assert fresh.calls == 1


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", json.dumps({"key": "x", "tokens": "nope"})])
def test_a_damaged_file_is_recomputed_and_replaced(names, tmp_path, content):
    (tmp_path / FILE_NAME).write_text(content)
    examples = [("cpu on {host}", {"host": "<host>"})]
    fresh = Counting([["cpu", "<host>"]])
    assert cached_tokens(tmp_path, names, examples, fresh) == [["cpu", "<host>"]]
    assert json.loads((tmp_path / FILE_NAME).read_text())["tokens"] == [["cpu", "<host>"]]


def test_an_unwritable_directory_only_costs_the_computation(names, tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    examples = [("cpu on {host}", {"host": "<host>"})]
    fresh = Counting([["cpu", "<host>"]])
    assert cached_tokens(blocked / "cache", names, examples, fresh) == [["cpu", "<host>"]]
    assert cached_tokens(blocked / "cache", names, examples, fresh) == [["cpu", "<host>"]]
    assert fresh.calls == 2


def test_a_parser_is_built_where_no_state_directory_can_be_made(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("OPSBOT_STATE_DIR", str(blocked / "state"))
    parser = build_parser(Config(), "offline")
    assert parser.parse("help").intent == "help"
