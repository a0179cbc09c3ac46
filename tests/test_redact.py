"""The secret redactor and the size cap that every reply passes."""

from __future__ import annotations

import time

import pytest

from opsbot.redact import cap, redact

SECRETS = [
    ("login ok password=hunter2 next", "login ok password=[REDACTED] next"),
    ("db_passwd: s3cr3t", "db_passwd: [REDACTED]"),
    ('{"client_secret": "abc def", "user": "x"}', '{"client_secret": [REDACTED], "user": "x"}'),
    ("secret=xyz&token=abc&page=2", "secret=[REDACTED]&token=[REDACTED]&page=2"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "aws_secret_access_key = [REDACTED]"),
    ("X-Api-Key: 12345abcdef", "X-Api-Key: [REDACTED]"),
    ("Authorization: Bearer abcdef0123456789abcdef", "Authorization: Bearer [REDACTED]"),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic [REDACTED]"),
    ("curl -H 'Authorization: token ghp_x'", "curl -H 'Authorization: token [REDACTED]'"),
    ("sent bearer abcdefghijklmnop to upstream", "sent bearer [REDACTED] to upstream"),
    ("postgres://app:s3cr3t@db-1:5432/orders", "postgres://app:[REDACTED]@db-1:5432/orders"),
    # issue #9: what replies leaked, and the shapes around them
    ("mysql -u root --password Hunter3xyz -h db-1", "mysql -u root --password [REDACTED] -h db-1"),
    ("tool --password=Hunter3 --verbose", "tool --password=[REDACTED] --verbose"),
    ("vault login --db-token 's p a c e' next", "vault login --db-token [REDACTED] next"),
    ("cli --api-key abc123 --region eu", "cli --api-key [REDACTED] --region eu"),
    ("Cookie: session=8f2a9c; csrftoken=77aa", "Cookie: [REDACTED]"),
    ("Set-Cookie: sid=abc123; HttpOnly", "Set-Cookie: [REDACTED]"),
    ("redis://:r3dispass@cache-1:6379/0", "redis://:[REDACTED]@cache-1:6379/0"),
    ("Server=db-1;Database=x;User Id=sa;Password=Pa55;", "Server=db-1;Database=x;User Id=sa;Password=[REDACTED];"),
    ("OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234", "OPENAI_API_KEY=[REDACTED]"),
    ("key sk-ant-api03-abcdefghijklmnopqrstuv", "key [REDACTED]"),
    ("bot xoxb-1234567890-0987654321-AbCdEfGhIjKl", "bot [REDACTED]"),
    ("app xapp-1-A0123ABCDEF-4567-abcdef0123", "app [REDACTED]"),
    ("id AKIAIOSFODNN7EXAMPLE here", "id [REDACTED] here"),
    ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [REDACTED]"),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "pat [REDACTED]"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlMTIz end", "jwt [REDACTED] end"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\nnext",
        "-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]-----END OPENSSH PRIVATE KEY-----\nnext",
    ),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA (cut short", "-----BEGIN RSA PRIVATE KEY-----[REDACTED]"),
]


@pytest.mark.parametrize("text, expected", SECRETS)
def test_secrets_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=512 temperature=0.2",
        "GET /api/v1/orders/42 200 12ms",
        "the password prompt appeared",
        "https://example.com/path?page=2",
        "sk-short",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_redacting_twice_changes_nothing_more():
    once = redact("\n".join(t for t, _ in SECRETS))
    assert redact(once) == once


def test_a_megabyte_of_output_is_redacted_quickly():
    text = "GET /api/v1/items/123 200 12ms user=alice\n" * 25_000
    start = time.thread_time()  # CPU time of this thread: other work on the machine does not count
    assert redact(text) == text
    assert time.thread_time() - start < 0.5


def test_cap_keeps_the_head_and_says_how_much_was_cut():
    text = "\n".join(f"line {i:04d}" for i in range(1000))  # 9,999 characters
    capped = cap(text, 500)
    assert len(capped) <= 500
    assert capped.startswith("line 0000\nline 0001")
    head, note = capped.rsplit("\n", 1)
    assert note == f"… ({len(text) - len(head):,} more characters cut)"
    assert head.endswith(head.splitlines()[-1]) and len(head.splitlines()[-1]) == 9  # cut at a line end


def test_cap_leaves_short_text_alone():
    assert cap("short", 10) == "short"
    assert cap("x" * 10, 10) == "x" * 10
