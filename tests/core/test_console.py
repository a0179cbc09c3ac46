"""The console as a person types into it: approvals by a short id or `last`, self-approval refused before
the approver is asked, denials that say what was denied, checked corrections and `/lang`."""

from __future__ import annotations

import io
import re

from opsbot.frontends.console import Console


def session(app, lines: list[str], user: str = "alice") -> str:
    feed = iter(lines)
    out = io.StringIO()

    def read(prompt: str) -> str:
        try:
            line = next(feed)
        except StopIteration:
            raise EOFError from None
        out.write(f"{prompt}{line}\n")
        return line

    Console(app.pipeline, user, read=read, out=out).run()
    return out.getvalue()


def test_approvals_by_prefix_or_last_and_a_deny_says_what_was_denied(app):
    out = session(app, ["restart nginx on web-1", "", "/approve ab", "/user bob", "/deny last"])
    short = re.search(r"/approve ([0-9a-f]{8})", out).group(1)
    assert "Give at least 4 characters" in out
    assert "bob denied: Restart nginx on web-1 (asked by alice); nothing was run." in out
    assert short


def test_self_approval_is_refused_before_the_approver_is_asked(app):
    out = session(app, ["restart nginx on web-2", "alice", "y"])
    assert "you asked for this yourself" in out
    assert "alice, approve? [y/N]" not in out
    assert app.store.latest_pending_approval(app.clock()) is not None  # still waiting for someone else


def test_a_correction_is_checked_before_it_is_stored(app):
    out = session(app, ["cpu on web-1", "/fix metrics.cpu host=web-9 window=banana", "/fix metrics.cpu host=web-1"])
    assert "Not stored:" in out and "web-9" in out
    assert "the correction is stored" in out
    assert [r["correction"] for r in app.store.export_feedback() if r.get("correction")] == [
        {"intent": "metrics.cpu", "params": {"host": "web-1"}}
    ]


def test_lang_switches_the_answers_and_the_console_texts(app):
    out = session(app, ["/lang zh", "tell me a joke", "/good"])
    assert "从现在起我会用中文回答你" in out and "什么都没有执行" in out and "谢谢，已记下" in out


def test_a_console_command_with_broken_quoting_is_one_sentence_and_the_console_goes_on(app):
    """Attack 8: `/user "bob`, `/approve 'x`, `/deny \\` ended the console with a traceback."""
    text = session(app, ['/user "bob', "/approve 'x", "/deny \\", "/user carol"])
    assert text.count("has an unclosed quote or a trailing backslash; nothing was done.") == 3
    assert "You are now carol" in text and "Traceback" not in text
