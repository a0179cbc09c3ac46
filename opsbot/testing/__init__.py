"""Test helpers that ship with opsbot (like Errbot's test bot): local servers that speak Slack's
protocols, so the real slack_bolt / slack_sdk code can be exercised without Slack."""

import os


def component_missing(reason: str) -> None:
    """A real component a test needs is absent: skip with the reason, but fail under CI (CI=true),
    which must run every test."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
