"""What Slack sends, turned into what the core understands: plain text, user names, conversation keys.

Slack escapes &, < and > in message text and wraps mentions and links in <...>; `clean_text` undoes that
so the parser sees what the person typed ("restart nginx on web-1.example.com", not
"<@U0BOT> restart nginx on <http://web-1.example.com|web-1.example.com>").
"""

from __future__ import annotations

import re

from opsbot.config.models import SlackConfig

FRONTEND = "slack"
_ANGLE = re.compile(r"<([^<>]*)>")
_SPACES = re.compile(r"[ \t]+")


def clean_text(text: str, bot_user_id: str | None = None) -> str:
    def unwrap(m: re.Match) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):  # <@U123> or <@U123|name>
            return "" if target[1:] == bot_user_id else "@" + (label or target[1:])
        if target.startswith("#"):  # <#C123|ops>
            return "#" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^S1|@oncall>
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return label or target  # <http://x|x> or <http://x>

    text = _ANGLE.sub(unwrap, text or "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()).strip()


def user_name(config: SlackConfig, slack_user_id: str) -> str:
    """The access name of a Slack user (slack.users maps ids to names); unmapped users keep their id."""
    return config.users.get(slack_user_id, slack_user_id)


def conversation_key(channel: str, thread: str | None, user: str) -> str:
    """The core's conversation key for a Slack place (mirrors Request.conversation)."""
    return f"{FRONTEND}:{channel}:{thread or user}"


def is_dm(channel: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" or (channel_type is None and channel.startswith("D"))


def ignorable_message(event: dict) -> bool:
    """Messages opsbot must never answer: from bots (itself included), edits, deletions, joins."""
    if event.get("bot_id") or event.get("bot_profile"):
        return True
    if event.get("subtype") not in (None, "thread_broadcast", "file_share"):
        return True
    return not event.get("user")
