"""Drain-style grouping of log lines into templates (no I/O)."""

from __future__ import annotations

from opsbot.executors.logtemplates import Drain, mask


def test_variable_parts_are_masked():
    assert (
        mask(
            "2026-11-25T13:55:01.123Z ERROR payment failed for order 4242: upstream returned 502 "
            "(request_id=req-8f3a2b1c) from 10.0.3.7:8080"
        )
        == "ERROR payment failed for order <NUM>: upstream returned <NUM> (request_id=req-<HEX>) from <IP>"
    )
    assert (
        mask(
            "Nov 25 13:55:01 web-1 api[1234]: cannot open /var/lib/app/state.db: 'disk full' id "
            "123e4567-e89b-12d3-a456-426614174000 at 0x7ffe12"
        )
        == "web-1 api[<NUM>]: cannot open <PATH>: '<*>' id <ID> at <HEX>"
    )
    assert (
        mask('[25/Nov/2026:13:55:01 +0000] "GET /api/v1/orders/42 HTTP/1.1" 504 took 3012ms')
        == '"<*>" <NUM> took <NUM>ms'
    )


def test_words_with_digits_that_are_names_stay():
    assert mask("http2 stream reset on v1 endpoint") == "http2 stream reset on v1 endpoint"


def test_json_lines_are_grouped_by_their_message():
    line = '{"ts":"2026-11-25T13:55:01Z","level":"error","host":"gpu-1","msg":"upstream returned 503 after 12ms"}'
    assert mask(line) == "error upstream returned <NUM> after <NUM>ms"


def test_lines_that_differ_only_in_variable_parts_share_a_template():
    drain = Drain()
    for n, ip in [(1, "10.0.0.1"), (22, "10.0.0.2"), (333, "10.9.9.9")]:
        drain.add(f"ERROR upstream timed out after {n} ms to {ip}", source="web-1")
    drain.add("ERROR upstream timed out after 5 ms to 10.0.0.4", count=4, source="web-2")
    drain.add("ERROR disk full on /dev/sda1", source="db-1")
    top = drain.templates()
    assert [(t.text, t.count) for t in top] == [
        ("ERROR upstream timed out after <NUM> ms to <IP>", 7),
        ("ERROR disk full on <PATH>", 1),
    ]
    assert top[0].example == "ERROR upstream timed out after 1 ms to 10.0.0.1"
    assert top[0].sources == {"web-1": 3, "web-2": 4}


def test_similar_messages_merge_and_the_differing_word_becomes_a_wildcard():
    drain = Drain()
    drain.add("ERROR connection to redis lost, retrying")
    drain.add("ERROR connection to postgres lost, retrying")
    drain.add("ERROR cache refresh failed after 12 ms (attempt 3)")
    texts = [t.text for t in drain.templates()]
    assert texts == [
        "ERROR connection to <*> lost, retrying",
        "ERROR cache refresh failed after <NUM> ms (attempt <NUM>)",
    ]


def test_different_messages_of_the_same_length_stay_apart():
    drain = Drain()
    drain.add("worker died: out of memory")
    drain.add("backup finished: no errors")
    assert len(drain.templates()) == 2


def test_the_number_of_templates_is_bounded():
    drain = Drain(max_templates=3)
    for word in ["alpha", "bravo", "charlie", "delta", "echo"]:
        drain.add(f"{word} {word} {word} failed")
    assert len(drain.templates()) == 3
    assert drain.overflow == 2
