"""Time the offline parser: realistic sentences against the default rule packs, optionally with many extra
synthetic rules (made-up intents and words) to show the cost does not grow with the number of rules.

    python -m benchmarks.parse [N_EXTRA_RULES]
"""

from __future__ import annotations

import json
import random
import sys
import time

from opsbot.config.models import Config, DeploymentConfig, HostConfig, Inventory
from opsbot.rules.loader import RuleSet, load_rules
from opsbot.rules.schema import ActionSpec, Examples, ParamSpec, Rule

SENTENCES = [
    "restart nginx on web-1",
    "please bounce the api service on web-2",
    "restart ngnix on Web1",
    "is nginx running on web-2?",
    "cpu usage on web-1 over the last 3 hours",
    "CPU on cache-1 past 10 minutes",
    "how much memory is db-1 using over the last day",
    "disk usage on db-1",
    "when will db-1 run out of disk",
    "forecast memory on cache-1 for the next 6 hours",
    "what alerts are firing?",
    "show me critical alerts",
    "is web-2 up",
    "which targets are down?",
    "search logs for 'permission denied' on web-1",
    "grep nginx logs for 502 in the last 30 minutes",
    "errors from the api in the last hour",
    "top processes on db-1",
    "clean up disk on web-2",
    "run promql `rate(node_network_receive_bytes_total[5m])`",
    "help",
    "how is llama-chat doing?",
    "scale llama-chat to 3 replicas",
    "roll back reranker to v2",
    "deploy llama-chat v7",
    "send the digest",
    "tell me a joke",
    "format every disk on web-1",
    "cpu on the web servers",
    "restart nginx on all web hosts",
    "重启 web-1 上的 nginx",
    "看一下 db-1 最近3小时的CPU",
    "cache-1 的内存使用情况",
    "预测 db-1 的磁盘什么时候写满",
    "列出严重告警",
    "在 nginx 日志里搜索 502",
    "把 llama-chat 扩容到三个副本",
    "把 reranker 回滚到 v2",
    "讲个笑话",
    "删除生产数据库",
    # conversations: a bare host, see-it-or-change-it, several hosts, a deployment for its host, the last lines
    "check web-1",
    "free disk space on db-1",
    "cpu on web-1 and web-2",
    "cpu on llama-chat",
    "tail the nginx log on web-1",
    "看看 db-1",
    "web-1 和 web-2 的磁盘",
    "never mind",
]

_SYLLABLES = [
    "ka",
    "zo",
    "rim",
    "tu",
    "vex",
    "lo",
    "qua",
    "pim",
    "dra",
    "nel",
    "sho",
    "bri",
    "gu",
    "fen",
    "tor",
    "mi",
    "xal",
    "pe",
    "run",
    "dov",
    "yi",
    "sa",
    "ko",
    "lim",
    "ber",
    "zan",
    "hu",
    "ota",
    "wex",
    "cil",
]


def bench_config() -> Config:
    hosts = {f"web-{i}": HostConfig(address="127.0.0.1", groups=["web"], services=["nginx", "api"]) for i in (1, 2)}
    hosts["db-1"] = HostConfig(address="127.0.0.1", groups=["db"], services=["postgresql"])
    hosts["cache-1"] = HostConfig(address="127.0.0.1", groups=["cache"], services=["redis"])
    hosts["gpu-1"] = HostConfig(address="127.0.0.1", groups=["llm"], services=["vllm", "llm-gateway"])
    deps = {
        "llama-chat": DeploymentConfig(host="gpu-1", service="vllm"),
        "reranker": DeploymentConfig(host="gpu-1", service="vllm"),
    }
    return Config(inventory=Inventory(hosts=hosts, deployments=deps))


def synthetic_rules(n: int, seed: int = 7) -> list[Rule]:
    """`n` rules with made-up intents and made-up English words, each with a few examples."""
    rnd = random.Random(seed)
    words = sorted({"".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 3))) for _ in range(4 * n + 50)})
    common = ["show", "the", "on", "for", "please", "check", "list", "get", "status", "now", "all"]
    rules = []
    for i in range(n):
        own = rnd.sample(words, 4)
        examples = []
        for _ in range(5):
            body = rnd.sample(own, rnd.randint(1, 3)) + rnd.sample(common, rnd.randint(0, 2))
            rnd.shuffle(body)
            tail = rnd.choice(["", " on {host}", " for {host} over the last {window}", " {host}"])
            examples.append(" ".join(body) + tail)
        rules.append(
            Rule(
                intent=f"synth.{own[0]}{i}",
                summary=f"made-up rule {' '.join(own)}",
                examples=Examples(en=examples),
                params={"host": ParamSpec(type="host"), "window": ParamSpec(type="duration")},
                action=ActionSpec(executor="bot"),
            )
        )
    return rules


def bench_parse(n_rules_extra: int = 0, rounds: int = 20) -> dict:
    """Parse timing percentiles in milliseconds over `rounds` passes of SENTENCES."""
    from opsbot.i18n import LANGUAGES, translations
    from opsbot.parsing.offline import OfflineParser

    for lang in LANGUAGES:  # the catalogs are loaded, as in a running bot
        translations(lang)
    base = load_rules()
    rules = RuleSet(base.rules + synthetic_rules(n_rules_extra)) if n_rules_extra else base
    parser = OfflineParser(rules, bench_config())
    for s in SENTENCES:  # warm the caches once, as a running bot would have
        parser.parse(s)
    times = []
    for _ in range(rounds):
        for s in SENTENCES:
            t0 = time.perf_counter()
            parser.parse(s)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    pct = lambda q: round(times[min(len(times) - 1, int(q * len(times)))], 3)
    return {"p50_ms": pct(0.50), "p99_ms": pct(0.99), "n": len(times)}


if __name__ == "__main__":
    extra = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    print(json.dumps(bench_parse(extra)))
