"""Start-up: a command imports only what it needs. A parse with no store and no LLM configured must not
pay for the LLM client, charts, Slack or the database libraries (about two seconds between them)."""

import json
import subprocess
import sys

import pytest

import opsbot
from benchmarks.startup import bench_cli

# pydantic_settings: read only when a variable overrides the config (opsbot/config/environment.py)
HEAVY = (
    *("openai", "matplotlib", "slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "paramiko", "numpy"),
    "pydantic_settings",
)

# Runs the real CLI entry point in a fresh interpreter, then lists which heavy packages it imported.
PROBE = f"""
import json, sys
from opsbot.cli import main
code = main(["parse", "cpu on web-1", "--json"])
print(json.dumps({{"code": code, "loaded": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


def test_a_parse_without_store_or_llm_imports_no_heavy_library(tmp_path):
    env = {"HOME": str(tmp_path), "OPSBOT_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    p = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert p.returncode == 0, p.stderr
    task_line, probe_line = p.stdout.strip().splitlines()
    assert json.loads(task_line)["intent"] == "metrics.cpu"
    probe = json.loads(probe_line)
    assert probe == {"code": 0, "loaded": []}
    # and it leaves no database behind: the state directory holds only the parser's token cache
    assert [p.relative_to(tmp_path).as_posix() for p in (tmp_path / "state").rglob("*") if p.is_file()] == [
        "state/cache/example-tokens.json"
    ]


def test_version_prints_the_package_version(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "opsbot", "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"opsbot {opsbot.__version__}"


@pytest.mark.slow  # about twenty subprocesses
def test_the_startup_benchmark_compares_a_parse_with_the_bare_interpreter():
    r = bench_cli(runs=1)
    assert r["opsbot_parse_s"] > r["python_pass_s"] > 0
    assert r["above_python_s"] == pytest.approx(r["opsbot_parse_s"] - r["python_pass_s"], abs=0.002)
