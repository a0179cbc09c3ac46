"""`make bench`: every performance target of the project, measured in one run and printed.

Each figure is the median (or the stated percentile) of one run on this machine; they are noisy, so
compare ratios rather than absolute numbers across machines."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def line(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52} {value:>18}   {target}", flush=True)


def section(title: str) -> None:
    print(f"\n{title}", flush=True)


def parse_bench(results: dict) -> None:
    from benchmarks.parse import bench_parse

    section("Offline parser latency")
    for extra, target in ((0, 2.0), (500, 10.0)):
        r = bench_parse(extra)
        results[f"parse_{extra}"] = r
        label = "default packs" if not extra else f"default packs + {extra} generated rules"
        line(f"{label}: p50 / p99", f"{r['p50_ms']:.3f} / {r['p99_ms']:.3f} ms", f"target p99 <= {target} ms")


def store_bench(results: dict) -> None:
    from benchmarks.store import bench_writes

    section("Store")
    with tempfile.TemporaryDirectory() as d:
        r = bench_writes(f"sqlite:///{Path(d) / 'bench.db'}")
    results["store"] = r
    line("SQLite request writes (one transaction each)", f"{r['requests_per_s']:.0f} req/s", "target >= 2000 req/s")


def lab_bench(results: dict) -> None:
    from benchmarks.lab import bench_fanout, bench_logsearch, bench_warm
    from opsbot.lab import Lab

    section("SSH and log search against the local lab")
    with Lab.start(extra_hosts=20) as lab:
        r = bench_fanout(lab)
        results["fanout"] = r
        line("fan-out to 20 hosts vs 1 host (wall)", f"{r['ratio']:.2f}x", "target <= 2.0x")
        r = bench_warm(lab)
        results["warm"] = r
        line("warm vs cold repeat on one host", f"{r['ratio']:.2f}x", "target <= 0.3x")
        r = bench_logsearch(lab)
        results["logsearch"] = r
        line("log search 1 GB (1h window) vs grep -F over SSH", f"{r['ratio_1h']:.2f}x", "target <= 1.15x")
        line("log search 1 GB (7d window) vs grep -F over SSH", f"{r['ratio_7d']:.2f}x", "target <= 1.15x")
        line("bot peak RSS during the search", f"{r['peak_rss_mb']:.0f} MB", "target <= 150 MB")


def slack_bench(results: dict) -> None:
    from benchmarks.slack import bench_ack

    section("Slack (HTTP mode, signed slash commands)")
    r = bench_ack(50)
    results["slack_ack"] = r
    line("ack latency, 50 concurrent: p50 / p99", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms", "target p99 <= 100 ms")


def llm_bench(results: dict) -> None:
    from benchmarks.llm import bench_prompt_tokens

    section("LLM prompt size")
    r = bench_prompt_tokens()
    results["prompt"] = r
    for n in (20, 200):
        x = r[f"rules_{n}"]
        line(
            f"{n} rules: top-k prompt vs every rule (median tokens)",
            f"{x['prompt_tokens_p50']} / {x['full_prompt_tokens_p50']}",
            "",
        )
        line(f"{n} rules: ratio", f"{x['ratio']:.3f}x", "target <= 0.2x at 200 rules" if n == 200 else "")
    calls = r["calls"]
    line("LLM calls per request routed to the LLM", f"{calls['calls_per_llm_request']:.2f}", "target 1")


def llmserve_bench(results: dict) -> None:
    from benchmarks.llmserve import TARGET_RATIO, bench_engines, bench_forecast

    section("LLM serving: capacity forecast and the lab's Ray Serve")
    r = bench_forecast()
    results["capacity_forecast"] = r
    line("24 h request-rate forecast: MAPE / seasonal-naive", f"{r['mape']:.3f} / {r['naive_mape']:.3f}", "")
    line("forecast vs seasonal-naive (MAPE ratio)", f"{r['ratio']:.2f}x", f"target <= {TARGET_RATIO}x")
    r = bench_engines()
    results["serving"] = r
    line("serving lab start (MLflow, Ray head, Serve, Prometheus)", f"{r['lab_start_s']:.1f} s", "")
    line("deploy to healthy on Ray Serve (median)", f"{r['deploy_to_healthy_s_p50']:.2f} s", "reported, no target")
    line("scale 1->2 / 2->1 replicas running (median)", f"{r['scale_s_p50']:.2f} s", "reported, no target")


def knowledge_bench(results: dict) -> None:
    from benchmarks.knowledge import bench_kb

    section("kb.ask: runbook search, no model")
    r = bench_kb()
    results["kb"] = r
    line(f"index build, {r['sections']} sections", f"{r['build_s']:.2f} s", "")
    line(
        f"search latency, {r['questions']} questions: p50 / p99",
        f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms",
        "target p99 <= 50 ms",
    )


def startup_bench(results: dict) -> None:
    from benchmarks.startup import bench_cli, bench_serve

    section("Start-up")
    r = bench_cli()
    results["startup_cli"] = r
    line("`python -c pass` (median wall)", f"{r['python_pass_s']:.3f} s")
    line("`opsbot parse TEXT`, no config (median wall)", f"{r['opsbot_parse_s']:.3f} s")
    line("opsbot parse above the bare interpreter", f"{r['above_python_s']:.3f} s", "target <= 0.5 s")
    line(
        "CPU (user + system): opsbot parse / python -c pass",
        f"{r['opsbot_parse_cpu_s']:.3f} / {r['python_pass_cpu_s']:.3f} s",
    )
    r = bench_serve()
    results["startup_serve"] = r
    line("`opsbot serve` (HTTP, SQLite) to /health answering", f"{r['serve_to_healthy_s']:.2f} s")


def security_bench(results: dict) -> None:
    from benchmarks.security import bench_hostile_yaml, bench_render, bench_store

    section("Security hardening (issue #9)")
    r = bench_render()
    results["security_render"] = r
    line("plan + render a shell rule with a hostile value", f"{r['plans_per_s']:.0f} /s")
    r = bench_hostile_yaml()
    results["security_yaml"] = r
    line("YAML alias bomb (9^7) refused in", f"{r['alias_bomb_refused_s']:.3f} s", "target < 1 s")
    line("50 MB rule file refused in", f"{r['fifty_mb_refused_s']:.3f} s", "target < 1 s")
    r = bench_store()
    results["security_store"] = r
    line("request+reply writes, redacted (SQLite)", f"{r['redacted_per_s']:.0f} /s")
    line("... redacted and encrypted (Fernet)", f"{r['redacted_and_encrypted_per_s']:.0f} /s", f"{r['ratio']:.2f}x")


def incidents_bench(results: dict) -> None:
    from benchmarks.incidents import bench_first_post, bench_storm

    section("Incidents (Alertmanager webhook -> opsbot serve -> Slack)")
    r = bench_first_post()
    results["incidents_first_post"] = r
    line("webhook -> first Slack post: p50 / p99", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms", "target p99 <= 1000 ms")
    r = bench_storm()
    results["incidents_storm"] = r
    line(f"storm: {r['groups']} groups in {r['sent_in_s']:.0f} s -> Slack posts", f"{r['posts']}", "target <= 3")
    line("storm: groups lost (not in the store)", f"{r['lost']}", "target 0")
    line("storm: bot peak RSS", f"{r['peak_rss_mb']:.0f} MB", "target <= 200 MB")


BENCHES = {
    "parse": parse_bench,
    "store": store_bench,
    "lab": lab_bench,
    "slack": slack_bench,
    "llm": llm_bench,
    "llmserve": llmserve_bench,
    "startup": startup_bench,
    "knowledge": knowledge_bench,
    "security": security_bench,
    "incidents": incidents_bench,
}


def main(argv: list[str]) -> int:
    wanted = argv or list(BENCHES)
    results: dict = {}
    failed = []
    started = time.time()
    for name in wanted:
        try:
            BENCHES[name](results)
        except Exception as e:  # one broken bench must not hide the others' figures
            failed.append(name)
            print(f"  {name}: FAILED ({type(e).__name__}: {e})", flush=True)
    print(f"\n{len(wanted) - len(failed)} of {len(wanted)} benchmark groups ran in {time.time() - started:.0f}s")
    out = Path("bench-results") / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
