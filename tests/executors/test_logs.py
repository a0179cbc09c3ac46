"""The logs executor against the lab: real files (rotated, gzipped), a journald unit, real sshd.
What is planted in the lab's logs is listed in opsbot/lab/samplelogs.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opsbot.core.action import ExecutionContext
from opsbot.executors.logs import LogsExecutor
from opsbot.lab.lab import HOSTS
from opsbot.lab.samplelogs import write_big_log, write_sample_logs
from opsbot.testing.memory import reset_peak_rss, vm_kb


@pytest.fixture(autouse=True)
def planted_just_now(lab):
    """The planted lines sit at fixed distances from the moment they are written ("7 errors in the last
    hour"); writing them again before each spec keeps those distances whatever the suite did before."""
    now = time.time()
    for host, spec in HOSTS.items():
        for service in spec["services"]:
            write_sample_logs(lab.host_dir(host) / "log", host, service, now)


def planted_lines(lab, host: str, containing: str) -> set[str]:
    """The lines of `host`'s current log files that contain `containing`."""
    return {
        line
        for path in (lab.host_dir(host) / "log").glob("*.log")
        for line in path.read_text().splitlines()
        if containing in line
    }


@pytest.fixture
def logs(lab_config):
    ex = LogsExecutor(lab_config)
    yield ex
    ex.close()


def run(ex, action, progress=None):
    return ex.run(action, ExecutionContext(config=ex.config, progress=progress or (lambda text: None)))


def counts(reply) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in reply.tables[-1].rows}


def test_search_over_a_group_counts_per_host_and_shows_the_lines(logs, lab_plan):
    reply = run(logs, lab_plan("logs.search", pattern="needle-recent", host="web"))
    assert reply.kind == "result"
    assert reply.text == "“needle-recent” in logs, last 1h: 12 matching lines on 2 of 2 hosts"
    assert counts(reply) == {"web-1": 6, "web-2": 6}  # nginx and api logs, 3 each
    lines = reply.code.splitlines()
    assert len(lines) == 12
    assert lines[0].startswith("web-1 nginx.log: ") and lines[0].endswith("search for needle-recent #1")
    assert sum(ln.startswith("web-2 api.log: ") for ln in lines) == 3


def test_the_window_filters_lines_by_their_own_timestamps(logs, lab_plan):
    last_hour = run(logs, lab_plan("logs.search", pattern="needle-3h", host="web-1", service="nginx"))
    assert counts(last_hour) == {"web-1": 0}
    assert last_hour.code is None
    assert last_hour.tables[0].rows[0][3] == "1 earlier match before the window; 2 older files not read"
    six_hours = run(logs, lab_plan("logs.search", pattern="needle-3h", host="web-1", service="nginx", window="6h"))
    assert counts(six_hours) == {"web-1": 1}
    # Every timestamp format the lab writes: nginx [dd/Mon/yyyy...], syslog, ISO with UTC, ISO with
    # comma millis in local time, JSON with Z.
    for service, hosts in [
        ("api", ["web-1", "web-2"]),
        ("postgresql", ["db-1"]),
        ("vllm", ["gpu-1"]),
        ("llm-gateway", ["gpu-1"]),
    ]:
        hour = run(logs, lab_plan("logs.search", pattern="needle-3h", service=service))
        assert counts(hour) == dict.fromkeys(hosts, 0), service
        wide = run(logs, lab_plan("logs.search", pattern="needle-3h", service=service, window="4h"))
        assert counts(wide) == dict.fromkeys(hosts, 1), service


def test_rotated_and_gzipped_files_are_searched_and_old_files_are_not_read(logs, lab_plan):
    week = run(logs, lab_plan("logs.search", pattern="needle-old", service="api", window="7d"))
    assert counts(week) == {"web-1": 2, "web-2": 2}
    assert all(" api.log.2.gz: " in ln for ln in week.code.splitlines())
    day = run(logs, lab_plan("logs.search", pattern="needle-yesterday", service="postgresql", window="1d"))
    assert counts(day) == {"db-1": 2}
    assert all(" postgresql.log.1: " in ln for ln in day.code.splitlines())
    hour = run(logs, lab_plan("logs.search", pattern="needle-old", service="api"))
    assert counts(hour) == {"web-1": 0, "web-2": 0}
    assert hour.tables[0].rows[0][3] == "2 older files not read"  # .1 and .2.gz: last written earlier


def test_shell_metacharacters_in_the_pattern_are_searched_literally(logs, lab_plan):
    pwned = Path("/tmp/pwned")
    if pwned.exists():
        pwned.unlink()
    reply = run(logs, lab_plan("logs.search", pattern="'; touch /tmp/pwned #", host="web-1"))
    assert counts(reply) == {"web-1": 2}
    assert all(ln.endswith("search q='; touch /tmp/pwned #") for ln in reply.code.splitlines())
    assert not pwned.exists()
    reply = run(logs, lab_plan("logs.search", pattern="$(id) | rm -rf * && echo", service="vllm"))
    assert counts(reply) == {"gpu-1": 1}
    assert reply.code.endswith("search q=$(id) | rm -rf * && echo")
    regexish = run(logs, lab_plan("logs.search", pattern="needle-.*", host="web-1"))
    assert counts(regexish) == {"web-1": 0}  # not a regex either


def test_without_a_host_the_hosts_running_the_service_are_searched(logs, lab_plan):
    reply = run(logs, lab_plan("logs.search", pattern="needle-recent", service="postgresql"))
    assert counts(reply) == {"db-1": 3}
    assert reply.text == "“needle-recent” in postgresql logs, last 1h: 3 matching lines on 1 of 1 host"


def test_a_journald_source_is_read_with_journalctl(logs, lab_plan):
    reply = run(logs, lab_plan("logs.search", pattern="needle-recent", service="redis"))
    assert counts(reply) == {"cache-1": 3}
    first = reply.code.splitlines()[0]
    assert first.startswith("cache-1 journal:redis: ") and first.endswith("INFO search for needle-recent #1")


def test_secrets_in_matching_lines_are_redacted(logs, lab_plan):
    reply = run(logs, lab_plan("logs.search", pattern="secret-demo", host="gpu-1"))
    assert counts(reply) == {"gpu-1": 6}
    assert "hunter2" not in reply.code and "sk-lab-" not in reply.code and "abcdef0123456789" not in reply.code
    assert reply.code.count("[REDACTED]") == 6


def test_max_lines_bounds_what_is_shown_not_what_is_counted(lab_config, lab_plan):
    config = lab_config.model_copy(deep=True)
    config.logs.max_lines = 4
    ex = LogsExecutor(config)
    try:
        reply = run(ex, lab_plan("logs.search", config=config, pattern="needle-recent", host="web"))
    finally:
        ex.close()
    assert counts(reply) == {"web-1": 6, "web-2": 6}
    lines = reply.code.splitlines()
    assert len(lines) == 5 and lines[-1] == "… 8 more matching lines not shown"
    assert [ln.split()[0] for ln in lines[:4]] == ["web-1", "web-1", "web-2", "web-2"]  # a fair share each


def test_context_lines_come_with_each_match(lab_config, lab_plan):
    config = lab_config.model_copy(deep=True)
    config.logs.context = 1
    ex = LogsExecutor(config)
    try:
        reply = run(ex, lab_plan("logs.search", config=config, pattern="needle-3h", host="db-1", window="6h"))
    finally:
        ex.close()
    lines = reply.code.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("db-1 postgresql.log- ") and lines[2].startswith("db-1 postgresql.log- ")
    assert lines[1].startswith("db-1 postgresql.log: ") and lines[1].endswith("search for needle-3h")


def test_errors_are_grouped_into_templates_with_counts_and_an_example(lab, logs, lab_plan):
    reply = run(logs, lab_plan("logs.errors", host="web-1"))
    assert reply.kind == "result"
    top = {row[1]: row for row in reply.tables[0].rows}
    timed_out = [t for t in top if "upstream timed out" in t]
    payment = [t for t in top if "payment failed for order" in t]
    assert len(timed_out) == 1 and len(payment) == 1  # one template each, not one per line
    assert top[timed_out[0]][0] == "7"  # 7 planted in the last hour, 3 older ones not
    assert top[payment[0]][0] == "7"
    assert "client: <IP>" in timed_out[0] and "order <NUM>" in payment[0]
    assert top[payment[0]][2] in planted_lines(lab, "web-1", "payment failed for order")  # a real line as example
    assert reply.text.startswith("2") and "error lines in logs, last 1h, in " in reply.text


def test_errors_across_hosts_name_the_hosts_of_each_template(logs, lab_plan):
    reply = run(logs, lab_plan("logs.errors", service="nginx", window="1d"))
    rows = reply.tables[0].rows
    timed_out = next(r for r in rows if "upstream timed out" in r[1])
    assert timed_out[0] == "20"  # 7 + 3 (rotated, 10 h ago) per host
    assert timed_out[3] == "web-1, web-2"
    assert counts(reply) == {"web-1": int(reply.tables[1].rows[0][1]), "web-2": int(reply.tables[1].rows[1][1])}


def test_a_service_without_a_log_source_is_explained(lab_config, lab_plan):
    config = lab_config.model_copy(deep=True)
    del config.logs.sources["api"]
    ex = LogsExecutor(config)
    try:
        reply = run(ex, lab_plan("logs.search", config=config, pattern="x", service="api"))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert (
        reply.text == "No log source is configured for api; add one under logs.sources.api (files or a journald unit)."
    )


def test_an_unreachable_host_is_reported_per_host(lab, lab_config, lab_plan):
    ex = LogsExecutor(lab_config)
    try:
        with lab.sshd_down():
            reply = run(ex, lab_plan("logs.search", pattern="needle-recent", host="db-1"))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text == f"sshd on db-1 (127.0.0.1:{lab.ssh_port}) refused the connection; is it running?"


def test_counting_happens_on_the_host_so_big_logs_cost_the_bot_nothing(lab, lab_config, lab_plan):
    big = lab.host_dir("db-1") / "log" / "bulk.log"
    needles = write_big_log(big, 40 * 1024 * 1024, needle="needle-bulk", every=2)
    config = lab_config.model_copy(deep=True)
    config.logs.sources["postgresql"].files.append(str(big))
    ex = LogsExecutor(config)
    reset_peak_rss()
    before = vm_kb("VmHWM")
    try:
        reply = run(ex, lab_plan("logs.search", config=config, pattern="needle-bulk", service="postgresql"))
    finally:
        ex.close()
        big.unlink()
    assert counts(reply) == {"db-1": needles}
    assert needles > 200_000
    assert len(reply.code.splitlines()) == config.logs.max_lines + 1
    assert (vm_kb("VmHWM") - before) / 1024 < 20


def test_tail_shows_the_last_lines_of_the_live_file_only(logs, lab_plan):
    reply = run(logs, lab_plan("logs.tail", service="nginx", host="web-1", lines=5))
    assert reply.kind == "result" and reply.text == "5 lines" and len(reply.code.splitlines()) == 5
    most = run(logs, lab_plan("logs.tail", service="nginx", host="web-1", lines=200)).code
    assert "needle-recent #3" in most  # written 5 minutes ago
    assert "needle-yesterday" not in most and "needle-old" not in most  # the rotated .1 and .2.gz are not read


def test_tail_reads_a_journald_unit_and_over_several_hosts_names_each(logs, lab_plan):
    journal = run(logs, lab_plan("logs.tail", service="redis", host="cache-1", lines=3))
    assert journal.kind == "result" and len(journal.code.splitlines()) == 3
    both = run(logs, lab_plan("logs.tail", service="nginx", host="web-1,web-2", lines=2))
    lines = both.code.splitlines()
    assert len(lines) == 4 and {ln.split(" ", 1)[0] for ln in lines} == {"web-1", "web-2"}


def test_tail_is_bounded_whatever_the_rule_allows(lab_plan):
    from opsbot.executors.logs import MAX_TAIL, tail_command
    from opsbot.rules.binding import BindError

    assert tail_command(10_000, ["f:/var/log/x.log"]).endswith(f" opsbot-tail {MAX_TAIL} f:/var/log/x.log")
    with pytest.raises(BindError, match="between 1 and 200"):
        lab_plan("logs.tail", service="nginx", host="web-1", lines=500)  # the rule's max is 200
