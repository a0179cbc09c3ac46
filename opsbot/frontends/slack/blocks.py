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
from opsbot.i18n import _

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


def mrkdwn(text: str) -> dict:
    """A mrkdwn text object Slack shows as written: `verbatim` keeps it from turning @channel, @here,
    #channel or a bare URL typed by a user into a mention or a link (escape() handles <!...>)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


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
    return {"type": "section", "text": mrkdwn(text)}


def _code_sections(body: str, title: str | None = None) -> list[dict]:
    """Preformatted text as one or more code-block sections, each under the section limit."""
    head = f"*{escape(title)}*\n" if title else ""
    room = SECTION_LIMIT - len(CODE_FENCE) * 2 - 2 - len(head)
    pieces = _chunks(_fence_safe(body.rstrip("\n")), room)
    return [
        _section(f"{head if i == 0 else ''}{CODE_FENCE}\n{p.rstrip(chr(10))}\n{CODE_FENCE}")
        for i, p in enumerate(pieces)
    ]


CELL = 60  # widest column; longer cells wrap onto more lines, never cut


def table_text(table: Table) -> str:
    """A table as aligned columns; a cell longer than 60 characters wraps onto the next lines."""
    cols = [str(c) for c in table.columns]
    rows = [[str(c) for c in r] + [""] * (len(cols) - len(r)) for r in table.rows]
    widths = [min(CELL, max([len(cols[i])] + [len(r[i]) for r in rows])) for i in range(len(cols))]

    def lines(cells: list[str]) -> list[str]:
        parts = [[c[k : k + w] for k in range(0, len(c), w)] or [""] for c, w in zip(cells, widths, strict=False)]
        return [
            "  ".join((p[n] if n < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=False)).rstrip()
            for n in range(max(len(p) for p in parts))
        ]

    out = [*lines(cols), "  ".join("-" * w for w in widths)]
    for r in rows:
        out += lines(r)
    return "\n".join(out)


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
                    mrkdwn(
                        ":chart_with_upwards_trend: "
                        + _("{title} (chart in the thread)").format(title=escape(image.title))
                    )
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
    alert = [b for b in reply.buttons if b.action.startswith("alert_")]
    blocks = []
    if alert:  # on an alert message: silence, ack, the rule's suggestions (action ids alert_*:<n>)
        els = [_button(b, f"{b.action}:{i}") for i, b in enumerate(alert[:MAX_ACTIONS])]
        blocks.append({"type": "actions", "block_id": "alert", "elements": els})
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
            mrkdwn(
                ":scissors: "
                + _(
                    "Output truncated: {hidden} more part(s) not shown (Slack shows at most {limit} blocks "
                    "per message). Ask for a narrower time range, fewer hosts or a tighter pattern."
                ).format(hidden=hidden, limit=MAX_BLOCKS)
            )
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
    return {"type": "context", "elements": [mrkdwn(escape(text))]}


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
        blocks.append(_section(_("You asked: _{asked}_\nWhat should it have been?").format(asked=shown)))
    blocks += [
        {
            "type": "input",
            "block_id": "intent",
            "label": {"type": "plain_text", "text": _("Intent")},
            "element": {
                "type": "static_select",
                "action_id": "intent",
                "options": options,
                "placeholder": {"type": "plain_text", "text": _("Choose the right command")},
            },
        },
        {
            "type": "input",
            "block_id": "params",
            "optional": True,
            "label": {"type": "plain_text", "text": _("Parameters")},
            "hint": {
                "type": "plain_text",
                "text": _("key=value pairs separated by commas, e.g. host=web-1, window=6h"),
            },
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
        "title": {"type": "plain_text", "text": _("Correct opsbot")},
        "submit": {"type": "plain_text", "text": _("Save")},
        "close": {"type": "plain_text", "text": _("Cancel")},
        "blocks": blocks,
    }


PARAM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_params(text: str | None) -> dict[str, str]:
    """ "host=web-1, window=6h" -> {"host": "web-1", "window": "6h"}; a part without "=" continues the
    value before it ("host=web-1, web-2": two hosts). ValueError names the bad part."""
    out: dict[str, str] = {}
    key = None
    for part in (text or "").split(","):
        if not part.strip():
            continue
        m = PARAM.match(part)
        if m is None and key is not None and "=" not in part:
            out[key] += "," + part.strip().strip("'\"`")
            continue
        if not m or not m.group(2):
            raise ValueError(_("{part} is not key=value").format(part=repr(part.strip())))
        key = m.group(1)
        out[key] = m.group(2).strip("'\"`")
    return out
