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
from typing import Any, TextIO

from opsbot.core.reply import Reply, Table
from opsbot.core.request import Request
from opsbot.i18n import N_, _, use_language
from opsbot.pipeline import Pipeline
from opsbot.pipeline.outcomes import Outcome

HELP = N_("""Console commands:
  /user NAME            speak as another configured user
  /approve ID | /deny ID  decide an approval request (ID: its first 4+ characters, or `last`)
  /good | /bad          rate the last answer
  /fix INTENT k=v ...   say what the last request should have been (checked, then stored for tuning)
  /lang zh|en|auto      the language I answer you in (auto: the language of each message)
  /quit                 leave (Ctrl-D works too)
Anything else is a request, e.g. `cpu on web-1 last 6h` or `重启 web-1 上的 nginx`.""")


LAB_HELP = N_("Lab: /lab stop HOST SERVICE stops a demo service (its TargetDown alert fires); /lab start HOST SERVICE.")

CELL = 60  # widest column; longer cells wrap onto more lines (the last column is never cut)


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, cols: int) -> str:
    return text + " " * (cols - width(text))


def wrap(text: str, cols: int) -> list[str]:
    """`text` in pieces of at most `cols` terminal columns."""
    out: list[str] = []
    cur, used = "", 0
    for c in text:
        w = width(c)
        if used + w > cols:
            out.append(cur)
            cur, used = "", 0
        cur += c
        used += w
    return [*out, cur]


def render_table(table: Table) -> str:
    cols = table.columns
    rows = [[str(c) for c in r] + [""] * (len(cols) - len(r)) for r in table.rows]
    widths = [min(CELL, max(width(x) for x in [cols[i]] + [r[i] for r in rows])) for i in range(len(cols))]

    def lines(cells: list[str]) -> list[str]:
        if len(cells) == 1:
            return [cells[0]]
        parts = [wrap(c, w) for c, w in zip(cells[:-1], widths, strict=False)] + [[cells[-1]]]
        return [
            "  ".join(pad(p[n] if n < len(p) else "", w) for p, w in zip(parts[:-1], widths, strict=False))
            + "  "
            + (parts[-1][0] if n == 0 else "")
            for n in range(max(len(p) for p in parts))
        ]

    out = ([table.title] if table.title else []) + lines(cols) + ["  ".join("-" * w for w in widths)]
    for r in rows:
        out += lines(r)
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
        lines.append(_("[chart: {title} -> {path}]").format(title=img.title, path=path))
    choices = [b for b in reply.buttons if b.action == "choose"]
    if choices and all(b.value == b.label for b in choices):
        lines.append(_("Choose: {choices}").format(choices=", ".join(b.value for b in choices)))
    elif choices and len(choices) > 1:
        lines.append(
            _("Answer with a number or in words:") + "\n" + "\n".join(f"  {b.value}. {b.label}" for b in choices)
        )
    if reply.approval_id and reply.kind == "approval":
        lines.append(_("(approval id {short}…; /approve {short} or /approve last)").format(short=reply.approval_id[:8]))
    return "\n".join(part for part in lines if part)


class Console:
    def __init__(
        self,
        pipeline: Pipeline,
        user: str,
        read: Callable[[str], str] = input,
        out: TextIO = sys.stdout,
        charts_dir: Path | None = None,
        lab: Any = None,
    ):
        self.pipeline = pipeline
        self.lab = lab  # opsbot.lab.Lab when chatting with the lab: /lab stop|start HOST SERVICE
        self.user = user
        self.read = read
        self.out = out
        self._charts_dir = charts_dir
        self.session = f"console-{uuid.uuid4().hex[:8]}"  # one conversation per console run
        self.last_request: str | None = None
        self.lang = "en"  # of the last request: console messages follow it
        pipeline.outcome_listeners.append(self.outcome)  # outcome checks arrive later, from a timer

    def outcome(self, event: Outcome) -> None:
        self.say(f"[{event.text}]")

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
        self.say(
            _("opsbot console — you are {user}. Type `help` for requests, /help for console commands.").format(
                user=self.user
            )
        )
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
                with use_language(self.lang):
                    self.command(line)
                continue
            req = Request(text=line, user=self.user, channel="console", thread=self.session, frontend="console")
            self.lang = self.pipeline.language(req)
            reply = self.pipeline.handle(req, progress=self.progress)
            self.last_request = req.id
            with use_language(self.lang):
                self.show(reply)
                if reply.kind == "approval" and reply.approval_id:
                    self.ask_approver(reply.approval_id)

    def ask_approver(self, approval_id: str) -> None:
        """Another configured user can answer right here; an empty answer leaves it pending."""
        try:
            who = self.read(_("approver name (empty: leave pending): ")).strip()
        except (EOFError, KeyboardInterrupt):
            return
        if not who:
            self.say(
                _("Left pending; approve later with /approve {short} (or /approve last).").format(short=approval_id[:8])
            )
            return
        refusal = self.pipeline.approver_refusal(approval_id, who)  # before asking them anything
        if refusal:
            self.say(
                refusal
                + " "
                + _("Left pending; approve later with /approve {short} (or /approve last).").format(
                    short=approval_id[:8]
                )
            )
            return
        try:
            answer = self.read(_("{who}, approve? [y/N] ").format(who=who)).strip().lower()
        except (EOFError, KeyboardInterrupt):
            return
        self.show(
            self.pipeline.decide(approval_id, who, answer in ("y", "yes", "是", "好", "批准"), progress=self.progress)
        )

    def lab_command(self, args: list[str]) -> None:
        """Make a lab alert fire on purpose (stop a demo service: TargetDown), or resolve it."""
        if len(args) != 3 or args[0] not in ("stop", "start"):
            self.say(_(LAB_HELP))
            return
        action, host, service = args
        try:
            (self.lab.stop_service if action == "stop" else self.lab.start_service)(host, service)
        except Exception as e:
            self.say(_("The lab could not do that: {error}").format(error=e))
            return
        done = (
            _("Stopped {service} on {host}; TargetDown fires in a few seconds.")
            if action == "stop"
            else _("Started {service} on {host}; the alert resolves in a few seconds.")
        )
        self.say(done.format(service=service, host=host))

    def command(self, line: str) -> None:
        try:
            parts = shlex.split(line)
        except ValueError:  # an unclosed quote or a trailing backslash: say so, keep the console
            self.say(_("That console command has an unclosed quote or a trailing backslash; nothing was done."))
            return
        cmd, args = parts[0], parts[1:]
        if cmd == "/help":
            self.say(_(HELP))
            if self.lab is not None:
                self.say(_(LAB_HELP))
        elif cmd == "/lab" and self.lab is not None:
            self.lab_command(args)
        elif cmd == "/user" and args:
            self.user = args[0]
            roles = ", ".join(sorted(self.pipeline.config.access.roles_of(self.user))) or _("no roles")
            self.say(_("You are now {user} ({roles}).").format(user=self.user, roles=roles))
        elif cmd in ("/approve", "/deny") and args:
            approval_id, problem = self.pipeline.find_approval(args[0])
            if approval_id and cmd == "/approve":
                problem = self.pipeline.approver_refusal(approval_id, self.user)  # before running anything
            if approval_id is None or problem:
                self.say(problem or "")
            else:
                self.show(self.pipeline.decide(approval_id, self.user, cmd == "/approve", progress=self.progress))
        elif cmd in ("/good", "/bad"):
            if self.last_request:
                self.pipeline.vote(self.last_request, self.user, cmd == "/good")
                self.say(_("Thanks, noted."))
            else:
                self.say(_("Nothing to rate yet."))
        elif cmd == "/fix" and args and self.last_request:
            bad = [a for a in args[1:] if "=" not in a]
            if bad:
                self.say(_("Write params as key=value; not understood: {words}").format(words=" ".join(bad)))
                return
            params = dict(a.split("=", 1) for a in args[1:])
            self.show(self.pipeline.correct(self.last_request, self.user, args[0], params))
        elif cmd == "/fix" and not self.last_request:
            self.say(_("There is no request to correct yet."))
        elif cmd == "/lang" and args:
            reply = self.pipeline.set_language(self.user, args[0])
            if reply.kind != "error" and args[0].lower() in ("en", "zh"):
                self.lang = args[0].lower()
            self.show(reply)
        else:
            self.say(_(HELP))
