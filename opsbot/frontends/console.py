"""`opsbot chat`: the pipeline in a terminal. Approvals are prompts another configured user answers."""

from __future__ import annotations

import re
import shlex
import sys
import tempfile
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from opsbot.core.reply import Reply, Table
from opsbot.core.request import Request
from opsbot.pipeline import Pipeline

HELP = """Console commands:
  /user NAME            speak as another configured user
  /approve ID | /deny ID  decide an approval request (as the current user)
  /good | /bad          rate the last answer
  /fix INTENT k=v ...   say what the last request should have been (stored for tuning)
  /quit                 leave (Ctrl-D works too)
Anything else is a request, e.g. `cpu on web-1 last 6h` or `重启 web-1 上的 nginx`."""


CELL = 60  # widest column before cells are cut (the last column is never cut)


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, cols: int) -> str:
    out: list[str] = []
    used = 0
    for c in text:
        w = width(c)
        if used + w > cols:
            return "".join(out[:-1]) + "…"
        out.append(c)
        used += w
    return "".join(out) + " " * (cols - used)


def render_table(table: Table) -> str:
    cols = table.columns
    rows = [[str(c) for c in r] + [""] * (len(cols) - len(r)) for r in table.rows]
    widths = [min(CELL, max(width(x) for x in [cols[i]] + [r[i] for r in rows])) for i in range(len(cols))]

    def line(cells: list[str]) -> str:
        return (
            "  ".join(fit(c, w) for c, w in zip(cells[:-1], widths, strict=False)) + "  " + cells[-1]
            if len(cells) > 1
            else cells[0]
        )

    out = (
        ([table.title] if table.title else []) + [line(cols), line(["-" * w for w in widths])] + [line(r) for r in rows]
    )
    return "\n".join(row.rstrip() for row in out)


def render(reply: Reply, charts_dir: Callable[[], Path]) -> str:
    lines = [re.sub(r"\*(.+?)\*", r"\1", reply.text)]
    for t in reply.tables:
        lines.append(render_table(t))
    if reply.code:
        lines.append("\n".join("    " + code_line for code_line in reply.code.splitlines()))
    for img in reply.images:
        folder = charts_dir()
        path = folder / img.filename
        n = 1
        while path.exists():
            path = folder / f"{Path(img.filename).stem}-{n}.png"
            n += 1
        path.write_bytes(img.png)
        lines.append(f"[chart: {img.title} -> {path}]")
    choices = [b.value for b in reply.buttons if b.action == "choose"]
    if choices:
        lines.append("Choose: " + ", ".join(choices))
    if reply.approval_id and reply.kind == "approval":
        lines.append(f"(approval id {reply.approval_id})")
    return "\n".join(part for part in lines if part)


class Console:
    def __init__(
        self,
        pipeline: Pipeline,
        user: str,
        read: Callable[[str], str] = input,
        out: TextIO = sys.stdout,
        charts_dir: Path | None = None,
    ):
        self.pipeline = pipeline
        self.user = user
        self.read = read
        self.out = out
        self._charts_dir = charts_dir
        self.session = f"console-{uuid.uuid4().hex[:8]}"  # one conversation per console run
        self.last_request: str | None = None

    def charts_dir(self) -> Path:
        """Where charts are saved as PNG files; made on the first chart."""
        if self._charts_dir is None:
            self._charts_dir = Path(tempfile.mkdtemp(prefix="opsbot-charts-"))
        return self._charts_dir

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, reply: Reply) -> None:
        self.say(render(reply, self.charts_dir))

    def progress(self, text: str) -> None:
        self.say(f"  … {text}")

    def run(self) -> int:
        self.say(f"opsbot console — you are {self.user}. Type `help` for requests, /help for console commands.")
        while True:
            try:
                line = self.read(f"{self.user}> ").strip()
            except (EOFError, KeyboardInterrupt):
                self.say("")
                return 0
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return 0
            if line.startswith("/"):
                self.command(line)
                continue
            req = Request(text=line, user=self.user, channel="console", thread=self.session, frontend="console")
            reply = self.pipeline.handle(req, progress=self.progress)
            self.last_request = req.id
            self.show(reply)
            if reply.kind == "approval" and reply.approval_id:
                self.ask_approver(reply.approval_id)

    def ask_approver(self, approval_id: str) -> None:
        """Another configured user can answer right here; an empty answer leaves it pending."""
        try:
            who = self.read("approver name (empty: leave pending): ").strip()
        except (EOFError, KeyboardInterrupt):
            return
        if not who:
            self.say(f"Left pending; approve later with /approve {approval_id}")
            return
        try:
            answer = self.read(f"{who}, approve? [y/N] ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            return
        self.show(self.pipeline.decide(approval_id, who, answer in ("y", "yes", "是", "好"), progress=self.progress))

    def command(self, line: str) -> None:
        parts = shlex.split(line)
        cmd, args = parts[0], parts[1:]
        if cmd == "/help":
            self.say(HELP)
        elif cmd == "/user" and args:
            self.user = args[0]
            roles = ", ".join(sorted(self.pipeline.config.access.roles_of(self.user))) or "no roles"
            self.say(f"You are now {self.user} ({roles}).")
        elif cmd in ("/approve", "/deny") and args:
            self.show(self.pipeline.decide(args[0], self.user, cmd == "/approve", progress=self.progress))
        elif cmd in ("/good", "/bad"):
            if self.last_request:
                self.pipeline.vote(self.last_request, self.user, cmd == "/good")
                self.say("Thanks, noted.")
            else:
                self.say("Nothing to rate yet.")
        elif cmd == "/fix" and args and self.last_request:
            params = dict(a.split("=", 1) for a in args[1:] if "=" in a)
            self.show(self.pipeline.correct(self.last_request, self.user, args[0], params))
        else:
            self.say(HELP)
