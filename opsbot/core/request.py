"""A Request: who asked, where, and what they typed. Front ends build these; the core never sees Slack."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

MAX_CHARS = 2000  # longer text is a pasted log, not a request; parsing cost grows with length


class Request(BaseModel):
    text: str
    user: str
    channel: str = "console"
    thread: str | None = None  # conversation key inside the channel (Slack thread ts, console session)
    frontend: str = "console"
    # False for a message that merely continues a thread the bot is in, without addressing it: then
    # the bot answers only what it understands, and keeps out of people talking to each other.
    addressed: bool = True
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def conversation(self) -> str:
        """The key that ties follow-ups and clarifying answers to the request they continue."""
        return f"{self.frontend}:{self.channel}:{self.thread or self.user}"
