"""A Reply, front-end neutral: text, tables, code, charts and buttons described as data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ReplyKind = Literal["result", "error", "question", "approval", "info", "progress", "ignored"]


class Table(BaseModel):
    columns: list[str]
    rows: list[list[str]]
    title: str | None = None


class Image(BaseModel):
    title: str
    png: bytes
    filename: str = "chart.png"


class Button(BaseModel):
    label: str
    action: str  # "approve", "deny", "choose", "vote_up", "vote_down"
    value: str  # approval id, chosen value, request id
    style: Literal["primary", "danger", "default"] = "default"


class Reply(BaseModel):
    text: str
    kind: ReplyKind = "result"
    tables: list[Table] = Field(default_factory=list)
    code: str | None = None  # preformatted output (command output, log lines)
    images: list[Image] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    ephemeral: bool = False  # only the asker sees it (where the front end can do that)
    request_id: str | None = None
    approval_id: str | None = None
    decided: bool = False  # this reply settles an approval (approved or denied by this click)
    # sentences naming actions the asker may want next (a runbook's steps): the pipeline offers those
    # that parse to a rule as choices, which go through the rules, policy and approval; never run as is
    offers: list[str] = Field(default_factory=list)

    @classmethod
    def error(cls, text: str, *, approval_id: str | None = None, code: str | None = None) -> Reply:
        return cls(text=text, kind="error", approval_id=approval_id, code=code)
