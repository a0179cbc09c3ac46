"""The offline parser's word lists, in one place: stop words, phrases, light stemming and synonyms;
the words that mark a follow-up; destructive words; how a message is put (a question that only looks, a
cancel, a yes or no, a pick by number); the words that end an unquoted search pattern.

Both rule examples and messages go through the same functions, so the tables only need to bring
different spellings of one idea together; they never decide an intent on their own.
"""

from __future__ import annotations

import re

# Function words that say nothing about the intent. Question words and verbs are kept.
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "by",
        "from",
        "with",
        "into",
        "onto",
        "about",
        "and",
        "or",
        "but",
        "so",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "please",
        "pls",
        "plz",
        "kindly",
        "just",
        "will",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "hey",
        "hi",
        "hello",
        "ok",
        "okay",
        "thanks",
        "thank",
        "opsbot",
    ]
)

# Question words and generic verbs: they count, but little, and never make a match on their own.
WEAK = frozenset(
    [
        "what",
        "how",
        "which",
        "when",
        "who",
        "where",
        "why",
        "whether",
        "show",
        "me",
        "give",
        "tell",
        "check",
        "get",
        "list",
        "see",
        "look",
        "much",
        "many",
        "any",
        "there",
        "right",
        "now",
        "current",
        "currently",
        "please",
        "last",
        "past",
        "over",
        "recent",
        "latest",
        "do",
        "doing",
        "does",
        "did",
        "can",
        "could",
        "would",
        "you",
        "your",
        "host",
    ]
) | frozenset(
    # the same in Chinese (character bigrams): question words and "have a look"
    [
        "怎么",
        "么样",
        "如何",
        "什么",
        "有什",
        "哪些",
        "哪个",
        "多少",
        "有没",
        "没有",
        "看看",
        "一下",
        "看一",
        "查一",
        "查看",
        "现在",
        "是不",
        "不是",
        "帮我",
        "给我",
        "请帮",
        "所有",
        "服务",
        "务器",
        "机器",
        "主机",
    ]
)

# Multi-word expressions that are one idea.
PHRASES = [
    (re.compile(r"\broll(ing|ed)?[\s-]+back\b"), "rollback"),
    (re.compile(r"\broll(ing|ed)?[\s-]+out\b"), "rollout"),
    (re.compile(r"\bclean(ing|ed)?[\s-]+up\b"), "cleanup"),
    (re.compile(r"\bscal(e|ing|ed)\s+(up|down|out|in)\b"), "scale"),
    (re.compile(r"\blook(ing|ed)?\s+for\b"), "search for"),
    (re.compile(r"\bshut(ting)?[\s-]*down\b"), "shutdown"),
    (re.compile(r"\bpower(ing|ed)?[\s-]*(off|down)\b"), "poweroff"),
    (re.compile(r"\brun(ning|s)?\s+out\s+of\b"), "runout of"),
    (re.compile(r"\bfill(ing|s|ed)?\s+up\b"), "fillup"),
    (re.compile(r"\bup\s+and\s+running\b"), "running"),
    # "who's using all the cpu", "what is eating up most of the memory": a process consumer question
    (
        re.compile(
            r"\b(using|eating|hogging|consuming|chewing|burning|taking)\s+(up\s+)?(all|most)\s+(of\s+)?(the\s+)?"
        ),
        "eating ",
    ),
    (re.compile(r"\bwhat'?s\b"), "what is"),
    (re.compile(r"\bhow'?s\b"), "how is"),
    (re.compile(r"\bisn'?t\b"), "is not"),
    (re.compile(r"\baren'?t\b"), "are not"),
    (re.compile(r"\bdon'?t\b"), "do not"),
    (re.compile(r"\bcan'?t\b"), "can not"),
]

IRREGULAR = {
    "ran": "run",
    "running": "run",
    "runs": "run",
    "ate": "eat",
    "eaten": "eat",
    "eating": "eat",
    "went": "go",
    "gone": "go",
    "done": "do",
    "made": "make",
    "shown": "show",
    "took": "take",
    "processes": "process",
    "statuses": "status",
    "indices": "index",
    "copies": "copy",
    "busiest": "busy",
    "heaviest": "heavy",
    "heavier": "heavy",
    "most": "most",
    "less": "less",
    "data": "data",
    "analysis": "analysis",
    "always": "always",
    "alias": "alias",
    "bus": "bus",
    "was": "was",
    "has": "has",
    "does": "do",
    "this": "this",
    "status": "status",
    "alerts": "alert",
}

# Spellings of one idea -> one word (applied after stemming).
SYNONYMS = {
    # resources
    "processor": "cpu",
    "cpus": "cpu",
    "core": "cpu",
    "compute": "cpu",
    "ram": "memory",
    "mem": "memory",
    "memory": "memory",
    "heap": "memory",
    "rss": "memory",
    "storage": "disk",
    "drive": "disk",
    "hdd": "disk",
    "ssd": "disk",
    "filesystem": "disk",
    "fs": "disk",
    "volume": "disk",
    "partition": "disk",
    "disc": "disk",
    "inode": "disk",
    "utilisation": "usage",
    "utilization": "usage",
    "utilis": "usage",
    "utiliz": "usage",
    "util": "usage",
    "consumption": "usage",
    "use": "usage",
    "using": "usage",
    "used": "usage",
    "usage": "usage",
    # verbs
    "display": "show",
    "view": "show",
    "see": "show",
    "print": "show",
    "get": "show",
    "fetch": "show",
    "give": "show",
    "tell": "tell",
    "report": "report",
    "plot": "graph",
    "chart": "graph",
    "draw": "graph",
    "inspect": "check",
    "verify": "check",
    "examine": "check",
    "grep": "search",
    "find": "search",
    "scan": "search",
    "hunt": "search",
    "locate": "search",
    "reboot": "restart",
    "relaunch": "restart",
    "bounce": "bounce",
    "cycle": "bounce",
    "release": "deploy",
    "ship": "deploy",
    "rollout": "deploy",
    "publish": "deploy",
    "upgrade": "upgrade",
    "revert": "rollback",
    "downgrade": "downgrade",
    "predict": "forecast",
    "projection": "forecast",
    "project": "forecast",
    "extrapolate": "forecast",
    "prediction": "forecast",
    "estimate": "forecast",
    "tidy": "cleanup",
    "clear": "clear",
    "purge": "purge",
    "reclaim": "free",
    # things
    "alarm": "alert",
    "alerting": "alert",
    "incident": "alert",
    "page": "page",
    "exception": "error",
    "failure": "error",
    "fail": "error",
    "err": "error",
    "errs": "error",
    "logfile": "log",
    "logging": "log",
    "replica": "replica",
    "instance": "replica",
    "pod": "replica",
    "worker": "replica",
    "copy": "replica",
    "command": "command",
    "cmd": "command",
    "feature": "command",
    "capability": "command",
    "state": "status",
    "health": "healthy",
    "healthiness": "healthy",
    "server": "host",
    "machine": "host",
    "box": "host",
    "node": "host",
    "vm": "host",
    "endpoint": "target",
    "scrape": "target",
    "offline": "down",
    "unreachable": "down",
    "dead": "down",
    "online": "up",
    "reachable": "reachable",
    "alive": "alive",
    "recap": "digest",
    "briefing": "digest",
    "newsletter": "digest",
    "top": "top",
    "hog": "eat",
    "hogging": "eat",
    "prometheus": "prometheus",
    "prom": "prometheus",
    "promql": "promql",
    # chat spelling
    "u": "you",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ya": "you",
}

_VOWELS = set("aeiou")


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed; enough to bring 'restarting' to 'restart'."""
    w = word.lower()
    if w in IRREGULAR:
        return IRREGULAR[w]
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("able") and len(w) > 7:
        return stem(w[:-4])  # pingable -> ping, reachable -> reach
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is", "os")):
        return w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)]
            if not any(c in _VOWELS for c in base):
                return w
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                base = base[:-1]  # running -> run, stopped -> stop
            elif base.endswith(("at", "iz", "is", "bl", "ov", "ag", "rg")) or (
                suffix == "ed" and base.endswith(("r", "v", "c", "s", "g", "u"))
            ):
                base += "e"  # updated -> update, used -> use
            elif (
                len(base) == 3 and base[0] not in _VOWELS and base[1] in _VOWELS and base[2] not in _VOWELS | set("wxy")
            ):
                base += "e"  # firing -> fire, taking -> take
            return base
    return w


def normalise_word(word: str) -> str:
    """The token an English word is compared by."""
    s = stem(word)
    return SYNONYMS.get(s, SYNONYMS.get(word.lower(), s))


def apply_phrases(text: str) -> str:
    for rx, repl in PHRASES:
        text = rx.sub(repl, text)
    return text


def _alternatives(phrases: tuple[str, ...]) -> str:
    """A regex alternation of whole phrases, longest first so "what about" wins over "what"."""
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(set(phrases), key=len, reverse=True))


# ---- follow-ups: "and on web-2?", "what about memory?", "same for db-1", "web-2 呢" --------------------
# A message is a follow-up when it starts with a leading word or ends with a trailing one; those words
# (and the openers) are dropped before reading what the follow-up asks for itself.
FOLLOW_UP_LEADING = (
    "and",
    "also",
    "now",
    "then",
    "same",
    "same thing",
    "ditto",
    "what about",
    "how about",
    "what of",
    "try",
    "but",
    "instead",
    "again",
    "make it",
    "change it to",
    "set it to",
    "do it for",
    "do the same",
)
FOLLOW_UP_TRAILING = ("same for", "same on", "same thing", "instead", "as well", "too")
OPENERS = ("ok", "okay", "what", "how", "about", "for", "on", "in", "at")  # say nothing when they open a follow-up
FOLLOW_UP_ZH_LEADING = ("那", "换成", "换到", "改成", "改为", "再看", "再查", "同样", "也看", "还有")
FOLLOW_UP_ZH_ANYWHERE = ("换成", "改成", "也一样", "同样的")
# Tokens that are no request of their own inside a follow-up ("what about the last one?").
FOLLOW_UP_FILLER = frozenset(w for p in FOLLOW_UP_LEADING + FOLLOW_UP_TRAILING + OPENERS for w in p.split()) | {
    "last",
    "past",
    "next",
    "one",
    "thing",
    "well",
    "just",
    "over",
    "there",
    "it",
    # Chinese time words: "最近两天的呢" changes the window, not the intent
    "最近",
    "过去",
    "近期",
    "之前",
    "以来",
    "现在",
    "当前",
    "目前",
    "今天",
    "这几",
    "前几",
    # "is it ok", "现在正常了吗": a state question, no intent of its own
    "还好",
    "正常",
    "健康",
    "好了",
    "活着",
    "ok",
    "okay",
    "fine",
    "healthy",
    "alive",
    "good",
    "better",
}
# A follow-up pointing back at what the thread is about ("any errors in the logs there?").
ANAPHORA = re.compile(r"\b(?:it|its|there|that\s+one|them|those|the\s+same)\b|它|这台|那台|那里|这里|上面", re.I)

FOLLOW_UP_EN = re.compile(
    rf"^\s*({_alternatives(FOLLOW_UP_LEADING)})\b"
    rf"|\b({_alternatives(FOLLOW_UP_TRAILING)})\s*\??\s*$",
    re.I,
)
FOLLOW_UP_ZH = re.compile(rf"呢[？?]?\s*$|^\s*({'|'.join(FOLLOW_UP_ZH_LEADING)})|{'|'.join(FOLLOW_UP_ZH_ANYWHERE)}")
MARKERS_EN = re.compile(
    rf"^\s*(and\s+)?({_alternatives(FOLLOW_UP_LEADING[1:] + OPENERS)})\b"
    rf"|\b({_alternatives((*FOLLOW_UP_TRAILING, 'about'))})\b",
    re.I,
)
MARKERS_ZH = re.compile("呢|" + "|".join(FOLLOW_UP_ZH_LEADING) + "|也")

# ---- safety: destructive words -------------------------------------------------------------------------
# A message using one of them is refused unless the chosen intent's own examples use it.
VETO_PREFIXES = (
    "delet",
    "remov",
    "drop",
    "truncat",
    "format",
    "reformat",
    "wipe",
    "wiping",
    "wiped",
    "eras",
    "destroy",
    "kill",
    "pkill",
    "shutdown",
    "poweroff",
    "halt",
    "terminat",
    "nuke",
    "nuking",
    "purg",
    "uninstall",
    "stop",
    "disabl",
    "reset",
    "overwrit",
    "flush",
    "shred",
    "unmount",
    "umount",
    "obliterat",
    "annihilat",
    "demolish",
    "scrap",
)
VETO_EXACT = frozenset({"rm", "rmdir", "mkfs", "chmod", "chown", "sudo", "rf", "dd", "fdisk", "iptables", "userdel"})
VETO_ZH = (
    "删除",
    "删掉",
    "删了",
    "移除",
    "格式化",
    "清空",
    "关机",
    "关掉",
    "关闭",
    "停止",
    "停掉",
    "停用",
    "禁用",
    "销毁",
    "卸载",
    "杀掉",
    "杀死",
    "干掉",
    "抹掉",
    "擦除",
    "重置",
    "清除",
    "关停",
    "下线",
    "注销",
    "毁掉",
)
_VETO = re.compile("(?:" + "|".join(sorted(set(VETO_PREFIXES), key=len, reverse=True)) + ")")

# Words too general to show on their own that a change is wanted, whatever the examples say.
NOT_SIGNALS = frozenset(
    [
        "some",
        "make",
        "out",
        "set",
        "now",
        "please",
        "previous",
        "service",
        "have",
        "get",
        "all",
        "any",
        "up",
        "down",
        "more",
        "less",
        "one",
        "new",
        "old",
        "last",
        "next",
        "it",
        "run",
        "show",
        "give",
        "need",
        "want",
        "can",
        "could",
        "would",
        "go",
    ]
) | frozenset(
    [
        "帮我",
        "帮忙",
        "一下",
        "一些",
        "服务",
        "请",
        "给我",
        "重新",
        "所有",
        "都",
        "现在",
        "马上",
        "立即",
        "磁盘",
        "空间",
        "出来",
        "起来",
        "一点",
        "机器",
        "器上",
        "上的",
    ]
)


def is_veto_word(word: str) -> bool:
    w = word.lower()
    return w in VETO_EXACT or _VETO.match(w) is not None


# ---- several hosts: "web-1 and web-2", "web-1,web-2", "web-1 和 web-2" ---------------------------------
# What may stand between two host names of one list.
HOST_JOIN = re.compile(r"^\s*(?:,|，|、|&|\+|/|and|和|跟|与|及|以及)?\s*$", re.I)

# ---- how a message is put (phrasing.py): a question that only looks, a cancel, a yes or no, a pick ------
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

# ---- unquoted search patterns: where "grep nginx logs for upstream timed out on web-1" stops -------------
UNQUOTED_STOP_EN = re.compile(
    r"^(on|in|at|from|over|during|within|across|since|for|of|and|with|logs?|the|"
    r"last|past|today|yesterday|please|now|files?)$",
    re.I,
)
UNQUOTED_STOP_ZH = "的在上里中了吗呢，。；！？,.;!?"
FILLER_ZH = frozenset(
    ["一下", "下", "一些", "帮我", "帮忙", "给我", "看看", "看一下", "查一下", "查下", "搜一下", "找一下", "请", "麻烦"]
)
QUOTE_OPEN = "`'\"“‘「『"
