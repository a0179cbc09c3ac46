"""Test helpers that ship with opsbot (like Errbot's test bot): local servers that speak Slack's and
OpenAI's protocols (one fake per module), so the real slack_bolt / slack_sdk / openai code can be exercised
without them. Their extra dependencies come with the `testing` extra: `pip install opsbot[testing]`."""

import os


def component_missing(reason: str) -> None:
    """A real component a test needs is absent: skip with the reason, but fail under CI (CI=true),
    which must run every test."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
