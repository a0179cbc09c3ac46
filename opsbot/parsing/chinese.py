"""Chinese text helpers for the offline parser: numerals (三, 十二, 两, 一百零五) and character n-grams."""

from __future__ import annotations

import re

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)
NUMERAL = re.compile(f"[{NUMERAL_CHARS}]+")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # also used by parsing/prompt.py


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def numeral_value(text: str) -> int | None:
    """The integer a Chinese numeral writes (三 -> 3, 十二 -> 12, 二十五 -> 25, 一百零五 -> 105), else None."""
    if not text or any(c not in DIGITS and c not in UNITS for c in text):
        return None
    if all(c in DIGITS for c in text):  # 二〇二四 style: digit by digit
        return int("".join(str(DIGITS[c]) for c in text)) if len(text) > 1 else DIGITS[text]
    total, section, digit = 0, 0, None
    for c in text:
        if c in DIGITS:
            if digit is not None and DIGITS[c] != 0:
                return None  # two digits in a row: not a numeral
            digit = DIGITS[c] if DIGITS[c] != 0 else None
        else:
            unit = UNITS[c]
            if unit == 10000:
                section = (section + (digit or 0)) * unit
                total, section, digit = total + section, 0, None
                continue
            section += (1 if digit is None else digit) * unit
            digit = None
    return total + section + (digit or 0)


PARTICLES = set("的了吗呢吧啊呀哦嘛")


def ngrams(run: str) -> list[str]:
    """Unigrams and bigrams of a run of CJK characters (the tokens Chinese text is compared by); no bigram
    spans a particle (的, 了, 吗...), which would only pair a word with grammar."""
    out = list(run)
    out += [run[i : i + 2] for i in range(len(run) - 1) if run[i] not in PARTICLES and run[i + 1] not in PARTICLES]
    return out
