"""A Reply rendered as Block Kit (plain dicts), within Slack's limits, with nothing able to ping or link.

Everything shown passes `escape` (&, <, >), so text from users, hosts or logs cannot become
<!channel>, <@U…> or a disguised link. Sections hold at most 3000 characters and a message at most
50 blocks; what does not fit is cut with a note saying so. Charts are not blocks: the front end uploads
them into the thread (see outbound.py); here they get a one-line mention.
"""

from __future__ import annotations

import json
import re

from opsbot.core.reply import Button, Reply, Table

SECTION_LIMIT = 3000  # characters in a section's text
MAX_BLOCKS = 50  # blocks in one message
MAX_ACTIONS = 25  # elements in one actions block
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000  # the notification text next to the blocks
OPTION_LIMIT = 100  # options in a static_select
CODE_FENCE = "```"

KIND_PREFIX = {"error": ":warning: ", "question": ":question: ", "approval": ":lock: "}
CORRECTION_CALLBACK = "opsbot_correct"


def escape(text: str) -> str:
    """Slack's three control characters, escaped as Slack documents it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fence_safe(text: str) -> str:
    # A ``` inside a code block would end it early; a zero-width space keeps it literal.
    return escape(text).replace(CODE_FENCE, "`\u200b``")


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line ends where possible; a single over-long line is cut hard."""
    out, cur = [], ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if cur:
                out.append(cur)
                cur = ""
            out.append(line[:limit])
            line = line[limit:]
        if len(cur) + len(line) > limit:
            out.append(cur)
            cur = ""
        cur += line
    if cur or not out:
        out.append(cur)
    return out


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _code_sections(body: str, title: str | None = None) -> list[dict]:
    """Preformatted text as one or more code-block sections, each under the section limit."""
    head = f"*{escape(title)}*\n" if title else ""
    room = SECTION_LIMIT - len(CODE_FENCE) * 2 - 2 - len(head)
    pieces = _chunks(_fence_safe(body.rstrip("\n")), room)
    return [
        _section(f"{head if i == 0 else ''}{CODE_FENCE}\n{p.rstrip(chr(10))}\n{CODE_FENCE}")
        for i, p in enumerate(pieces)
    ]


def table_text(table: Table) -> str:
    """A table as aligned columns (cells longer than 60 characters are cut)."""
    cols = [str(c) for c in table.columns]
    rows = [[str(c) for c in r] + [""] * (len(cols) - len(r)) for r in table.rows]
    widths = [min(60, max([len(cols[i])] + [len(r[i]) for r in rows])) for i in range(len(cols))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c if len(c) <= 60 else c[:59] + "…").ljust(w) for c, w in zip(cells, widths, strict=False)
        ).rstrip()

    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(r) for r in rows])


def text_blocks(reply: Reply) -> list[dict]:
    """The content blocks (no buttons): text, tables, code, chart notes."""
    blocks: list[dict] = []
    text = KIND_PREFIX.get(reply.kind, "") + escape(reply.text.strip())
    if text.strip():
        blocks += [_section(p) for p in _chunks(text, SECTION_LIMIT) if p.strip()]
    for table in reply.tables:
        blocks += _code_sections(table_text(table), table.title)
    if reply.code:
        blocks += _code_sections(reply.code)
    for image in reply.images:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f":chart_with_upwards_trend: {escape(image.title)} (chart in the thread)",
                    }
                ],
            }
        )
    return blocks


def _first_per_action(buttons: list[Button]) -> list[Button]:
    """One button per action (Slack refuses two with the same action_id in a block), the first kept."""
    first: dict[str, Button] = {}
    for b in buttons:
        first.setdefault(b.action, b)
    return list(first.values())


def _button(b: Button, action_id: str) -> dict:
    el = {
        "type": "button",
        "action_id": action_id,
        "value": b.value[:BUTTON_VALUE_LIMIT],
        "text": {"type": "plain_text", "text": b.label[:BUTTON_TEXT_LIMIT] or "?", "emoji": True},
    }
    if b.style in ("primary", "danger"):
        el["style"] = b.style
    return el


def action_blocks(reply: Reply) -> list[dict]:
    """Buttons grouped by purpose: approve/deny, clarifying choices, votes. Action ids are unique per
    block (Slack requires it): approve, deny, choose:<n>, vote_up, vote_down."""
    approval = [b for b in reply.buttons if b.action in ("approve", "deny")]
    choices = [b for b in reply.buttons if b.action == "choose"]
    votes = [b for b in reply.buttons if b.action in ("vote_up", "vote_down")]
    blocks = []
    if approval:
        els = [_button(b, b.action) for b in _first_per_action(approval)]
        blocks.append({"type": "actions", "block_id": "approval", "elements": els})
    for start in range(0, len(choices), MAX_ACTIONS):
        part = choices[start : start + MAX_ACTIONS]
        blocks.append(
            {
                "type": "actions",
                "block_id": f"choices:{start // MAX_ACTIONS}",
                "elements": [_button(b, f"choose:{start + i}") for i, b in enumerate(part)],
            }
        )
    if votes:
        els = [_button(b, b.action) for b in _first_per_action(votes)]
        blocks.append({"type": "actions", "block_id": "feedback", "elements": els})
    return blocks


def truncation_note(hidden: int) -> dict:
    return {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": f":scissors: Output truncated: {hidden} more part(s) not shown (Slack shows at most "
                f"{MAX_BLOCKS} blocks per message). Ask for a narrower time range, fewer hosts or a tighter pattern.",
            }
        ],
    }


def fallback_text(reply: Reply) -> str:
    """The plain notification text that goes with the blocks (also what screen readers use)."""
    text = escape(reply.text.strip()) or "opsbot"
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def render(reply: Reply, *, buttons: bool = True, footer: list[dict] | None = None) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for one Reply. `footer` blocks (e.g. "approved by …") go under the
    content, above the buttons."""
    content = text_blocks(reply)
    actions = action_blocks(reply) if buttons else []
    footer = list(footer or [])
    room = MAX_BLOCKS - len(actions) - len(footer)
    if len(content) > room:
        hidden = len(content) - (room - 1)
        content = [*content[: room - 1], truncation_note(hidden)]
    return fallback_text(reply), content + footer + actions


def context(text: str) -> dict:
    """A small grey line (who clicked what); `text` is escaped here."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}


def without_actions(blocks: list[dict]) -> list[dict]:
    return [b for b in blocks if b.get("type") != "actions"]


# ---- the correction modal -------------------------------------------------------------------------


def correction_modal(
    request_id: str, intents: list[str], *, asked: str | None, channel: str | None, thread: str | None
) -> dict:
    """The 👎 modal: pick the intent the request should have been, and its parameters."""
    meta = json.dumps({"request": request_id, "channel": channel, "thread": thread})
    options = [
        {"text": {"type": "plain_text", "text": i[:BUTTON_TEXT_LIMIT]}, "value": i} for i in intents[:OPTION_LIMIT]
    ]
    blocks = []
    if asked:
        shown = escape(asked.strip())
        shown = shown if len(shown) <= 500 else shown[:499] + "…"
        blocks.append(_section(f"You asked: _{shown}_\nWhat should it have been?"))
    blocks += [
        {
            "type": "input",
            "block_id": "intent",
            "label": {"type": "plain_text", "text": "Intent"},
            "element": {
                "type": "static_select",
                "action_id": "intent",
                "options": options,
                "placeholder": {"type": "plain_text", "text": "Choose the right command"},
            },
        },
        {
            "type": "input",
            "block_id": "params",
            "optional": True,
            "label": {"type": "plain_text", "text": "Parameters"},
            "hint": {"type": "plain_text", "text": "key=value pairs separated by commas, e.g. host=web-1, window=6h"},
            "element": {
                "type": "plain_text_input",
                "action_id": "params",
                "max_length": 500,
                "placeholder": {"type": "plain_text", "text": "host=web-1, window=6h"},
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": CORRECTION_CALLBACK,
        "private_metadata": meta,
        "title": {"type": "plain_text", "text": "Correct opsbot"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


PARAM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_params(text: str | None) -> dict[str, str]:
    """ "host=web-1, window=6h" -> {"host": "web-1", "window": "6h"}; ValueError names the bad part."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        m = PARAM.match(part)
        if not m or not m.group(2):
            raise ValueError(f"{part.strip()!r} is not key=value")
        out[m.group(1)] = m.group(2).strip("'\"`")
    return out
