"""Test helpers that ship with opsbot (like Errbot's test bot): local servers that speak Slack's
protocols, so the real slack_bolt / slack_sdk code can be exercised without Slack."""
