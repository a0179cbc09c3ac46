"""Rendering a Reply as Block Kit: escaping, Slack's size limits, buttons, the correction modal."""

from __future__ import annotations

import json

import pytest

from opsbot.core.reply import Button, Image, Reply, Table
from opsbot.frontends.slack import blocks as bk


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_user_and_log_content_cannot_ping_or_link():
    reply = Reply(
        text="found <!channel> and <@U123> and <http://evil|click> & more",
        code="line with <!here> and ``` fence",
        tables=[Table(columns=["a"], rows=[["<!everyone>"]])],
    )
    text, blocks = bk.render(reply)
    rendered = all_text(blocks) + text
    for raw in ("<!channel>", "<@U123>", "<http://evil|click>", "<!here>", "<!everyone>"):
        assert raw not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp; more" in rendered
    code = [b for b in blocks if "```" in b.get("text", {}).get("text", "")]
    assert all(b["text"]["text"].count("```") == 2 for b in code), "a ``` in the output must not end the code block"


def mrkdwn_objects(node) -> list[dict]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "mrkdwn" else []
        return own + [o for v in node.values() for o in mrkdwn_objects(v)]
    if isinstance(node, list):
        return [o for v in node for o in mrkdwn_objects(v)]
    return []


def test_an_echoed_at_channel_or_at_here_cannot_notify():
    """Attack 6: mrkdwn that echoes user input is verbatim, so Slack does not turn a typed @channel,
    @here or #channel into a mention (escape() already defuses <!channel>)."""
    reply = Reply(
        text="I'm not sure what you meant by `@channel wake up @here`",
        code="@everyone",
        tables=[Table(columns=["a"], rows=[["@here"]])],
        images=[Image(title="@channel chart", png=b"")],
    )
    _text, blocks = bk.render(reply, footer=[bk.context("@here clicked")])
    blocks.append(bk.truncation_note(3))
    objects = mrkdwn_objects(blocks)
    assert len(objects) >= 4
    assert all(o.get("verbatim") is True for o in objects)


def test_long_text_is_split_into_sections_under_3000_characters():
    reply = Reply(text="\n".join(f"line {i} " + "x" * 80 for i in range(200)))
    _, blocks = bk.render(reply)
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(b["text"]["text"]) <= bk.SECTION_LIMIT for b in sections)
    assert "line 199" in all_text(blocks)


def test_output_beyond_50_blocks_is_cut_with_a_note():
    reply = Reply(
        text="many tables",
        tables=[Table(title=f"t{i}", columns=["k", "v"], rows=[["a", "b"]]) for i in range(80)],
        buttons=[Button(label="👍", action="vote_up", value="r1"), Button(label="👎", action="vote_down", value="r1")],
    )
    _, blocks = bk.render(reply)
    assert len(blocks) == bk.MAX_BLOCKS
    assert blocks[-1]["type"] == "actions", "the buttons survive the cut"
    note = blocks[-2]
    assert note["type"] == "context" and "truncated" in note["elements"][0]["text"]
    assert "33 more part(s)" in note["elements"][0]["text"]  # 81 parts, 48 shown


def test_a_huge_code_block_is_chunked_and_every_chunk_stays_a_code_block():
    reply = Reply(text="output", code="\n".join("y" * 100 for _ in range(100)))
    _, blocks = bk.render(reply)
    code = [b["text"]["text"] for b in blocks[1:]]
    assert len(code) >= 4
    assert all(c.startswith("```\n") and c.endswith("\n```") and len(c) <= bk.SECTION_LIMIT for c in code)


def test_approval_and_vote_buttons_carry_their_action_ids_and_values():
    reply = Reply(
        text="alice asks: restart nginx",
        kind="approval",
        approval_id="ap1",
        buttons=[
            Button(label="Approve", action="approve", value="ap1", style="primary"),
            Button(label="Deny", action="deny", value="ap1", style="danger"),
        ],
    )
    _, blocks = bk.render(reply)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"], e.get("style")) for e in actions["elements"]] == [
        ("approve", "ap1", "primary"),
        ("deny", "ap1", "danger"),
    ]


def test_clarifying_choices_get_unique_action_ids_25_per_block():
    reply = Reply(
        text="Which host?",
        kind="question",
        buttons=[Button(label=f"web-{i}", action="choose", value=f"web-{i}") for i in range(30)],
    )
    _, blocks = bk.render(reply)
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30 and ids[0] == "choose:0" and ids[-1] == "choose:29"


def test_charts_are_mentioned_not_inlined():
    reply = Reply(text="cpu", images=[Image(title="CPU <web-1>", png=b"\x89PNG....")])
    _, blocks = bk.render(reply)
    assert "CPU &lt;web-1&gt; (chart in the thread)" in all_text(blocks)
    assert "PNG" not in all_text(blocks)


def test_the_correction_modal_offers_the_intents_and_a_parameter_line():
    view = bk.correction_modal("req1", ["help", "metrics.cpu"], asked="cpu <web-1>", channel="C1", thread="1.2")
    assert view["callback_id"] == bk.CORRECTION_CALLBACK
    assert json.loads(view["private_metadata"]) == {"request": "req1", "channel": "C1", "thread": "1.2"}
    select = next(b for b in view["blocks"] if b.get("block_id") == "intent")["element"]
    assert select["type"] == "static_select" and [o["value"] for o in select["options"]] == ["help", "metrics.cpu"]
    assert "cpu &lt;web-1&gt;" in all_text(view["blocks"])
    assert len(view["title"]["text"]) <= 24


def test_parameters_are_key_value_pairs():
    assert bk.parse_params("host=web-1, window = 6h") == {"host": "web-1", "window": "6h"}
    assert bk.parse_params("") == {} and bk.parse_params(None) == {}
    with pytest.raises(ValueError, match="'host web-1' is not key=value"):
        bk.parse_params("host web-1")
