"""`opsbot config check` against real things: the lab's sshd and Prometheus, the local fake Slack Web
API, a real SQLite store; one line per check, exit 1 when any fails."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from opsbot.store import Store
from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import clean_env, free_port, opsbot_command


@pytest.fixture(scope="module")
def slack_api():
    with fs.FakeSlackWebAPI() as api:
        yield api


def check(config_path, **env) -> tuple[int, dict[str, str]]:
    done = subprocess.run(
        [*opsbot_command(), "config", "check", str(config_path)],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.strip().splitlines()
    by_name = {line[5:].split(":", 1)[0]: line for line in lines}
    assert all(line[:5].strip() in ("ok", "FAIL", "skip") for line in lines), done.stdout + done.stderr
    return done.returncode, by_name


def lab_variant(lab, tmp_path, **changes):
    data = yaml.safe_load(lab.config_path.read_text())
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section] = {**data.get(section, {}), field: value}
        else:
            data[section] = value
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_working_setup_passes_every_check(lab, tmp_path, slack_api):
    if lab.prometheus is None:
        pytest.skip("the lab runs without Prometheus here")
    db = f"sqlite:///{tmp_path / 'opsbot.db'}"
    Store.open(db).close()
    config = lab_variant(lab, tmp_path, database_url=db)
    code, lines = check(config, SLACK_BOT_TOKEN=fs.BOT_TOKEN, SLACK_API_URL=slack_api.base_url)
    assert code == 0, lines
    assert list(lines) == ["config", "inventory", "prometheus", "ssh host keys", "database", "slack"]
    assert all(line.startswith("ok ") for line in lines.values()), lines
    assert "all 5 hosts present the key pinned" in lines["ssh host keys"]
    assert "auth.test" in lines["slack"]


def test_each_broken_part_is_its_own_failed_line(lab, tmp_path, slack_api):
    # known_hosts pins another key for the lab's sshd (every lab host is that one sshd); Prometheus
    # points at a closed port; the store is not migrated; Slack refuses the token.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other_key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    known = tmp_path / "known_hosts"
    pinned = lab.config().ssh.known_hosts.read_text().splitlines()
    known.write_text("".join(f"{line.split()[0]} {other_key.decode()}\n" for line in pinned if line.strip()))
    empty_db = tmp_path / "empty.db"
    import sqlite3

    sqlite3.connect(empty_db).close()
    config = lab_variant(
        lab,
        tmp_path,
        database_url=f"sqlite:///{empty_db}",
        prometheus__url=f"http://127.0.0.1:{free_port()}",
        ssh__known_hosts=str(known),
    )
    code, out = check(config, SLACK_BOT_TOKEN="not-a-bot-token", SLACK_API_URL=slack_api.base_url)
    assert code == 1
    assert out["config"].startswith("ok ") and out["inventory"].startswith("ok ")
    assert out["prometheus"].startswith("FAIL") and "Connection refused" in out["prometheus"]
    assert out["ssh host keys"].startswith("FAIL") and "web-2" in out["ssh host keys"]
    assert "presents a different ssh-ed25519 key" in out["ssh host keys"]
    assert out["database"].startswith("FAIL") and "no revision" in out["database"]
    assert out["slack"].startswith("FAIL") and "invalid_auth" in out["slack"]


def test_a_config_that_does_not_load_is_the_only_line(tmp_path):
    path = tmp_path / "opsbot.yaml"
    path.write_text("inventory:\n  hosts:\n    web-1: {adress: 10.0.0.1}\n")
    code, out = check(path)
    assert code == 1 and list(out) == ["config"]
    assert out["config"].startswith("FAIL") and "opsbot.yaml:3" in out["config"]


def test_a_secret_file_fills_the_bot_token(lab, tmp_path, slack_api):
    token = tmp_path / "slack_bot_token"
    token.write_text(fs.BOT_TOKEN + "\n")
    code, out = check(lab.config_path, SLACK_BOT_TOKEN_FILE=str(token), SLACK_API_URL=slack_api.base_url)
    assert out["slack"].startswith("ok ")
    missing = tmp_path / "nope"
    code, out = check(lab.config_path, SLACK_BOT_TOKEN_FILE=str(missing))
    assert code == 1 and "SLACK_BOT_TOKEN_FILE" in out["config"] and str(missing) in out["config"]
