"""Alert rules in the packs, payloads and label handling, without any server: what matches, what is
filled from labels, what `opsbot rules check` refuses and what `opsbot rules test` shows."""

from __future__ import annotations

import json

import pytest

from opsbot.config import Inventory
from opsbot.incidents.hosts import host_of
from opsbot.incidents.payload import PayloadError, parse_notification
from opsbot.incidents.steps import fill, match
from opsbot.rules.alert_schema import AlertStep
from opsbot.rules.loader import load_rules
from opsbot.testing.alert_payloads import alert, notification
from opsbot.yamlsource import SourceError

INVENTORY = Inventory(
    hosts={
        "web-1": {"address": "10.0.0.11", "services": ["nginx"]},
        "web-2": {"address": "10.0.0.12", "services": ["nginx"]},
    }
)


def test_the_shipped_packs_cover_the_lab_and_common_alerts():
    rules = load_rules()
    for name in ("TargetDown", "DiskWillFillIn24h", "HostOutOfMemory", "BlackboxProbeFailed", "VLLMHighQueueSize"):
        assert match(rules.alerts, {"alertname": name}) is not None, name
    assert match(rules.alerts, {"alertname": "SomethingNobodyKnows"}) is None


@pytest.mark.parametrize(
    ("labels", "host"),
    [
        ({"host": "web-1"}, "web-1"),
        ({"instance": "web-2:9100"}, "web-2"),
        ({"instance": "10.0.0.11:9100"}, "web-1"),
        ({"instance": "evil-9:9100"}, None),
        ({"host": "web-1; rm -rf /"}, None),
        ({"host": "x" * 10_000}, None),
        ({}, None),
    ],
)
def test_host_labels_map_to_inventory_hosts_or_to_nothing(labels, host):
    assert host_of(labels, INVENTORY) == host


def test_params_come_from_labels_and_a_missing_one_leaves_the_step_out():
    step = AlertStep(intent="service.status", params={"service": "$service", "host": "$host", "window": "15m"})
    filled = fill(step, {"service": "nginx", "instance": "web-1:9100"}, INVENTORY)
    assert filled.problem is None and filled.params == {"service": "nginx", "host": "web-1", "window": "15m"}
    assert "no label service" in fill(step, {"host": "web-1"}, INVENTORY).problem
    assert "inventory host" in fill(step, {"service": "nginx", "host": "evil-9"}, INVENTORY).problem


def write_pack(tmp_path, body: str):
    (tmp_path / "alerts-x.yaml").write_text(body)
    return tmp_path


def test_rules_check_refuses_a_diagnosis_that_changes_state_and_unknown_intents(tmp_path):
    folder = write_pack(
        tmp_path,
        "pack: x\nalerts:\n  - name: a\n    match: {alertname: A}\n    diagnose:\n"
        "      - {intent: service.restart, params: {service: $service, host: $host}}\n"
        "      - {intent: no.such, params: {}}\n"
        "      - {intent: metrics.cpu, params: {hots: $host}}\n",
    )
    with pytest.raises(SourceError) as e:
        load_rules([folder])
    text = str(e.value)
    assert "service.restart changes state" in text and "no rule has intent 'no.such'" in text
    assert (
        "alerts-x.yaml:6: a.diagnose: service.restart" in text
        and "alerts-x.yaml:8: a.diagnose: metrics.cpu takes no param hots" in text
    )


def test_rules_check_refuses_a_label_reference_that_is_no_label_name(tmp_path):
    folder = write_pack(
        tmp_path,
        "pack: x\nalerts:\n  - name: a\n    diagnose:\n      - {intent: metrics.cpu, params: {host: '$ho st'}}\n",
    )
    with pytest.raises(SourceError, match="not \\$host or \\$LABEL"):
        load_rules([folder])


def test_rules_test_runs_the_alert_examples(capsys):
    from opsbot.cli import main

    main(["rules", "test", "-v"])  # its exit status also counts every intent example's parse
    out = capsys.readouterr().out
    assert "alert:target-down" in out and "diagnose: service.status, logs.errors, metrics.cpu" in out
    assert not [line for line in out.splitlines() if line.startswith("FAIL") and "alert:" in line]


def test_rules_test_shows_what_a_payload_would_run(tmp_path, capsys):
    from opsbot.cli import main

    payload = notification([alert({"alertname": "TargetDown", "host": "web-1", "service": "nginx"})])
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload))
    assert main(["rules", "test", "--payload", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rule target-down; diagnose: service.status, logs.errors, metrics.cpu" in out
    assert "nothing was executed" in out


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{", "not JSON"),
        (b'"x"', "not a JSON object"),
        (b'{"version": "2"}', "version 4"),
        (b'{"version": "4", "groupKey": "k", "status": "firing", "alerts": [{"status": "firing"}]}', "labels"),
        (b'{"version": "4", "groupKey": "k", "status": "burning", "alerts": []}', "status"),
    ],
)
def test_a_malformed_payload_is_one_sentence(body, says):
    with pytest.raises(PayloadError, match=says) as e:
        parse_notification(body)
    assert "\n" not in str(e.value)


def test_a_real_shaped_payload_parses():
    n = parse_notification(json.dumps(notification([alert({"alertname": "A", "host": "web-1"})])).encode())
    assert n.name == "A" and n.firing()[0].labels["host"] == "web-1" and n.alerts[0].ended() is None
