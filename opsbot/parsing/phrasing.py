"""How a message is put, apart from what it asks: a question that only looks ("is it ok", "还好吗"), a
cancel ("never mind", "算了"), a yes or no, a pick by number ("2", "第二个"). English and Chinese.

These decide safety, not intent: a read-only phrasing never becomes a change, and a cancel word is never
read as a name.
"""

from __future__ import annotations

import re

from opsbot.parsing.chinese import numeral_value

# Questions that look: an interrogative first ("is", "how", "did"), or a state word ("ok", "healthy").
# Polite requests ("can you restart…", "could you…", "would you…") are requests, not questions.
READ_ONLY_EN = re.compile(
    r"^\s*(?:(?:and|so|but|ok|okay|then|now|hmm|well)[\s,]+)*"
    r"(?:is|are|was|were|does|did|has|have|how|how's|what|what's|which|why|any|anything|whats|hows)\b"
    r"(?!\s+(?:you|u|about)\b)"
    r"|\b(?:ok|okay|fine|healthy|alive|doing|status|state|look(?:s|ing)?\s+(?:ok|good|fine|healthy))\s*\??\s*$"
    r"|\bhow\s+(?:is|are|'s)\b|\bhealthy\b|\bstill\s+(?:up|running|alive|ok)\b",
    re.I,
)
REQUEST_EN = re.compile(r"^\s*(?:please\s+)?(?:can|could|would|will)\s+(?:you|u)\b|\bplease\b|\bpls\b", re.I)
READ_ONLY_ZH = re.compile(
    r"还好|正常吗|正常么|是否正常|怎么样|如何|状态|好了吗|好了没|挂了|活着|还在跑|在跑吗|在运行|"
    r"有没有问题|有问题吗|多少|几个|吗\s*[？?]?\s*$|么\s*[？?]?\s*$"
)
REQUEST_ZH = re.compile(r"帮|请|麻烦|能不能|能否|可以|可不可以|给我|把|一下|(?<!还)好吗|(?<!还)行吗|好不好")

CANCEL = re.compile(
    r"^(?:(?:oh|ah|no|nah|nope|wait|hmm|ok|okay|actually|sorry|please|then|just)\b[\s,.!]*)*"
    r"(?:never\s*mind|nvm|cancel(?:\s+(?:that|it|this|the\s+request))?|forget\s+(?:it|that|about\s+it)|"
    r"scratch\s+that|no\s+need|don'?t\s+bother|abort|stop\s+(?:that|it))"
    r"(?:[\s,.!]*(?:please|thanks|thank\s+you|then))*[\s.!]*$"
    r"|^[\s，。！]*(?:那就|那|还是|哦|噢|嗯)?[\s，]*(?:算了|不用了|不用|取消|别弄了|别了|不要了|不需要了|先不用|先不要)"
    r"(?:吧|啦|了|，?谢谢)?[\s，。！!.]*$",
    re.I,
)
YES = re.compile(
    r"^\s*(?:yes|y|yep|yeah|yup|sure|ok|okay|do\s+it|go\s+ahead|please\s+do|confirm|that\s+one|correct|"
    r"是|是的|对|对的|好|好的|可以|行|确认|嗯|要)\s*[.!。！]*\s*$",
    re.I,
)
NO = re.compile(r"^\s*(?:no|n|nope|nah|neither|none|否|不|不是|不对|都不是|不要)\s*[.!。！]*\s*$", re.I)
PICK = re.compile(
    r"^\s*(?:#|no\.?\s*|number\s+|option\s+|choice\s+|第)?\s*(\d+|[一二三四五六七八九十]+)\s*"
    r"(?:个|项|号|条)?\s*[.)。]?\s*$",
    re.I,
)


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
