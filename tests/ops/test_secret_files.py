"""Secrets from files (`SLACK_BOT_TOKEN_FILE` and friends), as Docker and Kubernetes mount them."""

from __future__ import annotations

import pytest

from opsbot.config import load_config
from opsbot.yamlsource import SourceError


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "opsbot.yaml"
    path.write_text("slack: {bot_token: xoxb-from-the-config}\ndatabase_url: sqlite:///x.db\n")
    return path


def test_a_file_gives_the_value_without_its_newline(config_file, tmp_path, monkeypatch):
    (tmp_path / "token").write_text("xoxb-from-a-file\n")
    (tmp_path / "db").write_text("postgresql+psycopg://opsbot:s3cret@db/opsbot\n")
    (tmp_path / "am").write_text("am-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("OPSBOT_DATABASE_URL_FILE", str(tmp_path / "db"))
    monkeypatch.setenv("OPSBOT_ALERTMANAGER_TOKEN_FILE", str(tmp_path / "am"))
    config = load_config(config_file)
    assert config.slack.bot_token == "xoxb-from-a-file"
    assert config.database_url == "postgresql+psycopg://opsbot:s3cret@db/opsbot"
    assert config.alertmanager.token == "am-token"


def test_the_variable_itself_wins_over_its_file(config_file, tmp_path, monkeypatch):
    (tmp_path / "token").write_text("xoxb-from-a-file")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    assert load_config(config_file).slack.bot_token == "xoxb-from-the-environment"


@pytest.mark.parametrize("content", [None, "  \n"], ids=["missing", "empty"])
def test_a_missing_or_empty_file_is_one_sentence_naming_it(config_file, tmp_path, monkeypatch, content):
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("SLACK_SIGNING_SECRET_FILE", str(path))
    with pytest.raises(SourceError) as e:
        load_config(config_file)
    [problem] = e.value.problems
    assert "SLACK_SIGNING_SECRET_FILE" in str(problem) and str(path) in str(problem)
