"""The SSH executor against the lab's real sshd: rule actions from the real engine, real processes."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

import pytest
from waiting import wait_until

from opsbot.core.action import Action, ExecutionContext, Target
from opsbot.executors.ssh import SSHExecutor
from opsbot.lab.labctl import running
from opsbot.lab.sshd import known_hosts_line, write_keypair
from opsbot.testing.memory import reset_peak_rss, vm_kb


@pytest.fixture
def ssh(lab_config):
    ex = SSHExecutor(lab_config)
    yield ex
    ex.close()


def run(ex, action, config=None, progress=None):
    return ex.run(action, ExecutionContext(config=config or ex.config, progress=progress or (lambda text: None)))


def adhoc(command: str, targets: list[Target], **fields) -> Action:
    """An action as a rule would render it, for commands no default rule has."""
    return Action(
        executor="ssh",
        intent="test.adhoc",
        rule_id="test.adhoc",
        fields={"command": command, **fields},
        params={},
        targets=targets,
    )


def target(lab, name="web-1") -> Target:
    return Target(name=name, address="127.0.0.1", port=lab.ssh_port, user=lab.user)


def processes_matching(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry))
    return found


# ---------------------------------------------------------------------------------------------- rule actions


def test_service_status_shows_the_running_service_and_its_pid(lab, ssh, lab_plan):
    reply = run(ssh, lab_plan("service.status", service="nginx", host="web-1"))
    assert reply.kind == "result"
    assert reply.text.startswith("web-1: ok (exit 0,")
    assert reply.code.splitlines()[0] == "active"
    assert f"Main PID: {lab.service_pid('web-1', 'nginx')} " in reply.code


def test_status_of_a_stopped_service_is_an_answer_not_a_failure(lab, ssh, lab_plan):
    stop = run(ssh, adhoc("sudo -n systemctl stop api", [target(lab, "web-2")]))
    assert stop.kind == "result", stop.text
    try:
        reply = run(ssh, lab_plan("service.status", service="api", host="web-2"))
        assert reply.kind == "result"  # the rule accepts exit code 3 (inactive)
        assert "exit 3" in reply.text
        assert reply.code.splitlines()[0] == "inactive"
        assert "Active: inactive (dead)" in reply.code
    finally:
        run(ssh, adhoc("sudo -n systemctl start api", [target(lab, "web-2")]))
    assert lab.service_pid("web-2", "api")


def test_restart_really_restarts_the_service_on_that_host_only(lab, ssh, lab_plan):
    before = lab.service_pid("web-1", "nginx")
    other = lab.service_pid("web-2", "nginx")
    reply = run(ssh, lab_plan("service.restart", service="nginx", host="web-1"))
    assert reply.kind == "result", reply.text
    after = lab.service_pid("web-1", "nginx")
    assert after and after != before
    assert reply.code.splitlines() == ["active", str(after)]  # is-active, then the new MainPID
    assert not running(before)
    assert lab.service_pid("web-2", "nginx") == other


def test_restart_of_a_group_fans_out_and_reports_progress(lab, ssh, lab_plan):
    before = {h: lab.service_pid(h, "api") for h in ("web-1", "web-2")}
    progress: list[str] = []
    reply = run(ssh, lab_plan("service.restart", service="api", host="web"), progress=progress.append)
    assert reply.kind == "result"
    assert reply.text == "2 of 2 hosts ok"
    rows = {row[0]: row for row in reply.tables[0].rows}
    assert set(rows) == {"web-1", "web-2"}
    for host in rows:
        now = lab.service_pid(host, "api")
        assert now != before[host]
        assert rows[host][1:3] == ["ok", "0"]
        assert rows[host][4] == str(now)
    assert progress[0] == "running on 2 hosts… 0 done"
    assert progress[-1] == "running on 2 hosts… 2 done"


def test_restarting_an_unknown_unit_fails_like_systemctl(lab, ssh):
    reply = run(ssh, adhoc("sudo -n systemctl restart nosuch", [target(lab)]))
    assert reply.kind == "error"
    assert "failed (exit 5," in reply.text
    assert "Unit nosuch.service not found." in reply.code


def test_process_top_lists_the_busiest_processes(lab, ssh, lab_plan):
    reply = run(ssh, lab_plan("process.top", host="db-1"))
    assert reply.kind == "result"
    lines = reply.code.splitlines()
    assert lines[0].split() == ["PID", "USER", "%CPU", "%MEM", "RSS", "ELAPSED", "COMMAND"]
    assert 2 <= len(lines) <= 16


def test_disk_cleanup_vacuums_old_journals_and_package_files(lab, ssh, lab_plan):
    journal = lab.host_dir("db-1") / "journal"
    archives = lab.host_dir("db-1") / "var" / "cache" / "apt" / "archives"
    old = [p for p in journal.iterdir() if time.time() - p.stat().st_mtime > 7 * 86400]
    assert len(old) == 2 and list(archives.glob("*.deb"))
    reply = run(ssh, lab_plan("disk.cleanup", host="db-1"))
    assert reply.kind == "result", reply.code
    assert "Vacuuming done, freed 16.0M of archived journals" in reply.code
    assert not any(p.exists() for p in old)
    assert len(list(journal.iterdir())) == 2  # the recent archive and the active journal
    assert not list(archives.glob("*.deb"))
    assert reply.code.count("Filesystem") == 2  # df before and after


def test_llm_scale_deploy_and_rollback_change_the_replica_processes(lab, ssh, lab_plan):
    reply = run(ssh, lab_plan("llm.scale", deployment="reranker", replicas=3))
    assert reply.kind == "result", reply.code
    pids = lab.replica_pids("reranker")
    assert len(pids) == 3
    assert "reranker: scaled from 1 to 3 replicas" in reply.code

    reply = run(ssh, lab_plan("llm.deploy", deployment="reranker", version="r1.0"))
    assert "reranker: deployed r1.0 (was r0.9); restarted 3 replicas" in reply.code
    new_pids = lab.replica_pids("reranker")
    assert len(new_pids) == 3 and not set(new_pids.values()) & set(pids.values())

    reply = run(ssh, lab_plan("llm.rollback", deployment="reranker"))
    assert "reranker: rolled back to r0.9 (was r1.0)" in reply.code
    reply = run(ssh, lab_plan("llm.scale", deployment="reranker", replicas=1))
    assert "scaled from 3 to 1 replicas" in reply.code
    assert len(lab.replica_pids("reranker")) == 1


def test_a_nonzero_exit_is_a_failure_unless_the_action_accepts_it(lab, ssh):
    failed = run(ssh, adhoc("echo out; echo err >&2; exit 7", [target(lab)]))
    assert failed.kind == "error"
    assert failed.text.startswith("web-1: failed (exit 7,")
    assert failed.code == "out\n[stderr]\nerr"
    accepted = run(ssh, adhoc("exit 7", [target(lab)], ok_exit_codes=[0, 7]))
    assert accepted.kind == "result"


# ---------------------------------------------------------------------------------------------- fan-out


def test_fan_out_runs_in_parallel_but_never_more_than_max_parallel(lab, lab_config):
    config = lab_config.model_copy(deep=True)
    config.ssh.max_parallel = 4
    ex = SSHExecutor(config)
    hosts = [target(lab, f"fan-{i:02d}") for i in range(12)]
    started, running = (Path(tempfile.mkdtemp(prefix=name, dir=lab.workdir)) for name in ("started-", "running-"))
    # Each host records itself while it runs; the peak number of files in `running` is the concurrency.
    # The pool starts hosts in order, so the first four also wait (up to a minute) until all four have
    # started: "together" proves they run at the same time, whatever the machine's load.
    command = (
        f"touch {started}/$OPSBOT_TARGET {running}/$OPSBOT_TARGET; "
        "case $OPSBOT_TARGET in fan-0[0-3]) w=0; "
        f"while [ $(ls {started} | grep -c '^fan-0[0-3]$') -lt 4 ] && [ $w -lt 600 ]; do "
        "sleep 0.1; w=$((w+1)); done; "
        "if [ $w -lt 600 ]; then echo together; else echo alone; fi;; *) echo later;; esac; "
        f"sleep 0.4; ls {running} | wc -l; rm {running}/$OPSBOT_TARGET; echo $OPSBOT_TARGET"
    )
    progress: list[str] = []
    try:
        reply = run(ex, adhoc(command, hosts, timeout=120), config=config, progress=progress.append)
    finally:
        ex.close()
    assert reply.text == "12 of 12 hosts ok"
    outputs = [s.splitlines()[1:] for s in reply.code.split("── ")[1:]]
    assert [out[0] for out in outputs] == ["together"] * 4 + ["later"] * 8  # in parallel, not 12 in a row
    assert max(int(out[1]) for out in outputs) <= 4
    assert [row[4] for row in reply.tables[0].rows] == [h.name for h in hosts]  # each host's own env
    assert progress[0] == "running on 12 hosts… 0 done" and progress[-1] == "running on 12 hosts… 12 done"


def test_a_warm_connection_is_reused_and_a_dead_one_replaced(lab, ssh):
    t = target(lab)
    first = run(ssh, adhoc("echo $SSH_CLIENT", [t])).code.split()[1]  # client port of the TCP connection
    second = run(ssh, adhoc("echo $SSH_CLIENT", [t])).code.split()[1]
    assert first == second and ssh.pool.open_count() == 1
    conn = ssh.pool.acquire(t, 5)
    transport = conn.client.get_transport()
    transport.sock.shutdown(socket.SHUT_RDWR)  # the network drops it
    ssh.pool.release(conn)
    wait_until(lambda: not transport.is_active(), what="paramiko noticing the dropped connection")
    third = run(ssh, adhoc("echo $SSH_CLIENT", [t]))
    assert third.kind == "result"
    assert third.code.split()[1] != first


# ---------------------------------------------------------------------------------------------- faults


def test_a_changed_host_key_is_refused_and_nothing_runs(lab, lab_config, tmp_path):
    wrong = write_keypair(tmp_path / "other_host_key", "impostor")
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(lab.ssh_port, wrong) + "\n")
    config = lab_config.model_copy(deep=True)
    config.ssh.known_hosts = known
    marker = lab.workdir / "host-key-marker"
    ex = SSHExecutor(config)
    try:
        reply = run(ex, adhoc(f"touch {marker}", [target(lab)]))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text == (
        f"The host key of web-1 (127.0.0.1:{lab.ssh_port}) does not match the one pinned in "
        f"{known}: it changed or someone is in between, so I refused to connect."
    )
    assert not marker.exists()
    assert known.read_text() == known_hosts_line(lab.ssh_port, wrong) + "\n"  # nothing added


def test_an_unknown_host_key_is_refused_never_added(lab, lab_config, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("")
    config = lab_config.model_copy(deep=True)
    config.ssh.known_hosts = known
    ex = SSHExecutor(config)
    try:
        reply = run(ex, adhoc(f"touch {lab.workdir / 'unknown-key-marker'}", [target(lab)]))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text.startswith(
        f"web-1 (127.0.0.1:{lab.ssh_port}) is not in the known_hosts file {known}, so I refused to connect"
    )
    assert known.read_text() == ""
    assert not (lab.workdir / "unknown-key-marker").exists()


def test_a_key_the_host_does_not_accept_is_reported(lab, lab_config, tmp_path):
    write_keypair(tmp_path / "stranger", "stranger")
    config = lab_config.model_copy(deep=True)
    config.ssh.key_file = tmp_path / "stranger"
    ex = SSHExecutor(config)
    try:
        reply = run(ex, adhoc("true", [target(lab)]))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert (
        reply.text == f"web-1 (127.0.0.1:{lab.ssh_port}) rejected the key {tmp_path / 'stranger'} for user {lab.user}."
    )


def test_sshd_not_running_is_one_clear_sentence(lab, lab_config, lab_plan):
    ex = SSHExecutor(lab_config)
    try:
        with lab.sshd_down():
            reply = run(ex, lab_plan("service.status", service="nginx", host="web-1"))
            group = run(ex, lab_plan("service.restart", service="api", host="web"))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text == f"sshd on web-1 (127.0.0.1:{lab.ssh_port}) refused the connection; is it running?"
    assert group.kind == "error"
    assert group.text == "0 of 2 hosts ok; web-1 not run, web-2 not run"
    assert [row[1] for row in group.tables[0].rows] == ["not run", "not run"]
    assert "refused the connection" in group.tables[0].rows[1][4]


def test_a_hanging_command_is_killed_at_the_deadline_with_its_partial_output(lab, ssh):
    start = time.monotonic()
    reply = run(ssh, adhoc("echo started; sleep 613; echo never", [target(lab)], timeout=2))
    elapsed = time.monotonic() - start
    assert 1.9 <= elapsed < 60  # not before its deadline; long before the command would have ended
    assert reply.kind == "error"
    assert reply.text == "The command on web-1 timed out after 2 s and was stopped; partial output below."
    assert reply.code == "started"
    wait_until(
        lambda: processes_matching("sleep 613") == [],  # killed on the host, not left behind
        what="the hanging command gone from the host",
    )


def test_a_flood_on_stderr_does_not_block_stdout(lab, ssh):
    reply = run(ssh, adhoc("head -c 8000000 /dev/zero | tr '\\0' e >&2; echo finished", [target(lab)], timeout=20))
    assert reply.kind == "result"
    assert reply.code.startswith("finished\n[stderr]\neeee")
    assert reply.code.endswith("more bytes of output dropped)")


def test_fifty_megabytes_of_output_are_capped_and_memory_stays_flat(lab, ssh):
    reset_peak_rss()
    before = vm_kb("VmHWM")
    reply = run(ssh, adhoc("head -c 50000000 /dev/zero | tr '\\0' x; echo done >&2", [target(lab)]))
    growth_mb = (vm_kb("VmHWM") - before) / 1024
    limit = ssh.config.ssh.max_output
    assert reply.kind == "result"
    assert reply.code.startswith("x" * 1000)
    assert reply.code.endswith(f"[stderr]\ndone\n… ({50_000_000 - limit:,} more bytes of output dropped)")
    assert len(reply.code) < limit + 200
    assert growth_mb < 30, f"peak RSS grew by {growth_mb:.0f} MB"


def test_a_hostile_value_reaches_the_host_as_one_argument_and_runs_nothing(lab, ssh, lab_config, tmp_path):
    """Attack 1 over real SSH: a viewer's note `"$(touch FILE)"` is printed, not run, on the host."""
    from opsbot.core.task import Task
    from opsbot.rules.engine import Engine
    from opsbot.rules.loader import load_rules

    (tmp_path / "note.yaml").write_text(
        "rules:\n"
        "  - intent: x.note\n"
        "    summary: note\n"
        "    params: {pattern: {type: text, required: true}, host: {type: host, required: true}}\n"
        "    action: {executor: ssh, command: 'printf \"[%s]\\n\" note: {{ pattern }}'}\n"
    )
    marker = tmp_path / "pwned"
    hostile = f"x $(touch {marker}) `touch {marker}`; touch {marker}"
    engine = Engine(load_rules([tmp_path], defaults=False), lab_config)
    action = engine.plan(Task(intent="x.note", params={"pattern": hostile, "host": "web-1"})).action
    reply = run(ssh, action)
    assert reply.code.splitlines() == ["[note:]", f"[{hostile}]"]
    assert not marker.exists()
