"""How a message is put, apart from what it asks: a question that only looks ("is it ok", "还好吗"), a
cancel ("never mind", "算了"), a yes or no, a pick by number ("2", "第二个"). English and Chinese; the
word lists are in lexicon.py.

These decide safety, not intent: a read-only phrasing never becomes a change, and a cancel word is never
read as a name. The pipeline uses them too (cancels and answers to its questions), whichever parser runs.
"""

from __future__ import annotations

import re

from opsbot.parsing.chinese import numeral_value
from opsbot.parsing.offline.lexicon import CANCEL, NO, PICK, READ_ONLY_EN, READ_ONLY_ZH, REQUEST_EN, REQUEST_ZH, YES

# A question for the runbooks rather than a request: how things are done, who owns them, where the
# procedure is ("how do we fail over postgres", "who owns kafka", "主从切换怎么做", "谁负责 kafka").
KNOWLEDGE_EN = re.compile(
    r"(?:^|[,;:.!?]\s*)(?:\W*(?:hey|hi|so|ok|quick question|q)\W+)?(?:"
    r"how (?:do|does|did|can|could|should|would) (?:we|i|you|one|they|people)\b"
    r"|how to\b"
    r"|what (?:should|do|must|can) (?:we|i) do\b"
    r"|where (?:do|should) (?:we|i) (?:start|begin|look)\b"
    r"|when (?:should|must|do) (?:we|i)\b"
    r"|how long (?:are|is|do|does) (?!it take)\w+ (?:kept|stored|retained|valid)\b"
    r"|what(?:'s| is| are) (?:the|our)\s+(?:\w+\s+){0,3}?(?:procedure|process|steps|runbook|playbook|escalation|policy)"
    r"|what is the procedure\b"
    r"|who (?:owns|maintains|is responsible|is the owner|is on call|do (?:i|we) (?:page|call|contact|ask|escalate))"
    r"|who(?:'s| is) (?:the )?(?:owner|on.call|contact)"
    r"|where (?:is|are|can i find|do i find) (?:the |our )?(?:runbook|playbook|procedure|docs|documentation)"
    r"|where are (?:the |our )?\w+(?: \w+)? (?:stored|kept|documented)\b"
    r"|is there (?:a|any) (?:runbook|playbook|procedure|doc|guide|health check|way to)"
    r"|(?:search|check|look in) the (?:runbook|playbook|docs|wiki)"
    r")",
    re.I,
)
KNOWLEDGE_ANY_EN = re.compile(r"\b(?:runbooks?|playbooks?|according to the (?:docs|wiki))\b", re.I)
# 怎么 + a verb is "how to" (怎么样 is "how is it", a status question)
KNOWLEDGE_ZH = re.compile(
    r"怎么(?!样)|如何处理|如何操作|如何做|如何恢复|流程|步骤|手册|预案|负责人|谁负责|找谁|联系谁|归谁管"
    r"|什么时候(?:需要|应该|该)|保留多久|注意什么|有什么标准|是什么标准"
)
# A question about the bot itself ("how do I use you", "怎么用", "你能做什么") is for `help`.
ABOUT_THE_BOT = re.compile(
    r"\b(?:use|using|ask|talk to)\s+(?:you|the bot|this bot|opsbot)\b|\byou\W*$|你|^\W*怎么用\W*$", re.I
)


def asks_knowledge(text: str) -> bool:
    """The message asks how something is done or who owns it: a question for the runbooks."""
    t = text.strip()
    if ABOUT_THE_BOT.search(t):
        return False
    return bool(KNOWLEDGE_EN.search(t) or KNOWLEDGE_ANY_EN.search(t) or KNOWLEDGE_ZH.search(t))


def read_only(text: str) -> bool:
    """The message asks how something is, rather than asking for something to be done."""
    if REQUEST_EN.search(text) or REQUEST_ZH.search(text):
        return False
    return bool(READ_ONLY_EN.search(text) or READ_ONLY_ZH.search(text))


def cancels(text: str) -> bool:
    """The whole message says "never mind" (not a request that happens to contain "cancel")."""
    return bool(CANCEL.match(text.strip()))


def yes(text: str) -> bool:
    return bool(YES.match(text))


def no(text: str) -> bool:
    return bool(NO.match(text))


def picked_number(text: str, count: int) -> int | None:
    """The 0-based choice a message picks by number ("2", "#2", "option 2", "第二个"), if in range."""
    m = PICK.match(text)
    if not m:
        return None
    raw = m.group(1)
    n = int(raw) if raw.isdigit() else numeral_value(raw)
    return n - 1 if n is not None and 1 <= n <= count else None
