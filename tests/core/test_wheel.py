"""Installed from a wheel (not a checkout), opsbot still finds its rule packs, prompts and migrations."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # builds a wheel
def test_the_wheel_ships_rules_prompts_and_migrations(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("opsbot-*.whl")
    assert "opsbot/i18n/locale/zh/LC_MESSAGES/opsbot.mo" in zipfile.ZipFile(wheel).namelist()  # compiled at build
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "OPSBOT_STATE_DIR": str(tmp_path / "state")}
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "opsbot", *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    where = subprocess.run(
        [sys.executable, "-c", "import opsbot; print(opsbot.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert where.startswith(str(site)), "the test must import the unpacked wheel, not the checkout"
    zh = subprocess.run(
        [
            sys.executable,
            "-c",
            "from opsbot.i18n import _, use_language, translations\n"
            "with use_language('zh'): print(_('Top processes on {{ host }}'))\n"
            "print(type(translations('zh')).__name__)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert zh == ["{{", "host", "}}", "上的主要进程", "GNUTranslations"]
    check = run("rules", "check")
    assert check.returncode == 0 and re.match(r"ok: \d+ rules, \d+ intents", check.stdout), check.stderr
    parsed = run("parse", "help", "--json")
    assert '"intent": "help"' in parsed.stdout, parsed.stderr
    chat = subprocess.run(
        [sys.executable, "-m", "opsbot", "chat", "--user", "alice"],
        input="help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert "service.restart" in chat.stdout, chat.stderr  # the store migrated from the wheel's files
