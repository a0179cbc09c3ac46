"""Log lines as an operator reads them: JSON with the request id, and libraries quiet below WARNING."""

from __future__ import annotations

import io
import json
import logging

import pytest

from opsbot.logging_setup import request_context, setup


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_request_id_and_extras(restore_logging):
    out = io.StringIO()
    setup("json", stream=out)
    with request_context("r-123"):
        logging.getLogger("opsbot.pipeline").info("answered %s", "help", extra={"outcome": "info"})
    logging.getLogger("opsbot.pipeline").warning("outside a request")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "answered help" and first["request_id"] == "r-123" and first["outcome"] == "info"
    assert first["level"] == "INFO" and first["logger"] == "opsbot.pipeline"
    assert "request_id" not in second


def test_libraries_below_warning_are_hidden_unless_verbose(restore_logging):
    out = io.StringIO()
    setup("text", stream=out)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    logging.getLogger("slack_sdk").warning("rate limited")
    logging.getLogger("opsbot.app").info("ready")
    assert [line.split(" ", 3)[3] for line in out.getvalue().splitlines()] == [
        "slack_sdk: rate limited",
        "opsbot.app: ready",
    ]
    verbose = io.StringIO()
    setup("text", verbose=True, stream=verbose)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    assert "alembic.runtime.migration: Running upgrade" in verbose.getvalue()


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="json"):
        setup("xml")


def test_a_secret_in_a_log_line_is_masked_before_it_is_written(restore_logging):
    """Attack 3: nothing typed reaches the log in clear either."""
    out = io.StringIO()
    setup("text", stream=out)
    logging.getLogger("opsbot.pipeline").warning("could not parse %r", "login --password Hunter3x Cookie: s=abc")
    assert "Hunter3x" not in out.getvalue() and "s=abc" not in out.getvalue()
    assert "--password [REDACTED]" in out.getvalue()
