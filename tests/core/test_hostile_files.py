"""Attack 7: hostile config and rule files. Each is refused quickly, with `file:line: message`, never a
traceback; an alias bomb or a huge file costs neither minutes nor memory."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from opsbot.config import ConfigError, load_config
from opsbot.rules.loader import load_rules
from opsbot.yamlsource import SourceError

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else '1, 2, 3, 4, 5, 6, 7, 8, 9'}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)  # 9^7 values once expanded, a few hundred bytes written

HOSTILE = [
    ("list_key", "inventory:\n  hosts:\n    [web-1, web-2]: {address: a}\n", 3, "a mapping key must be a plain value"),
    ("bad_int", "inventory:\n  hosts:\n    web-1: {address: a, port: !!int twenty}\n", 3, "cannot read 'twenty'"),
    ("recursive", "inventory:\n  hosts: &h\n    web-1: *h\n", 2, "a recursive alias"),  # the anchor's line
    ("bad_port", "database_url: 'postgresql://ops@db.example:abc/opsbot'\n", 1, "database_url: not a database URL"),
    ("bomb", BOMB, 1, "values once aliases are expanded; refused"),
    ("not_utf8", None, 2, "not UTF-8"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_config_is_one_located_sentence(tmp_path, name, text, line, message):
    path = tmp_path / f"{name}.yaml"
    if text is None:
        path.write_bytes(b"inventory:\n  hosts: {web-\xff: {address: a}}\n")
    else:
        path.write_text(text)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert time.perf_counter() - started < 2
    assert f"{path}:{line}: " in str(e.value) and message in str(e.value)


def test_a_fifty_megabyte_rule_file_is_refused_before_it_is_parsed(tmp_path):
    pack = tmp_path / "huge.yaml"
    pack.write_text("rules:\n" + "# padding\n" * 5_000_000)
    started = time.perf_counter()
    with pytest.raises(SourceError) as e:
        load_rules([tmp_path], defaults=False)
    assert time.perf_counter() - started < 2
    assert f"{pack}:1: the file is larger than 5 MB; refused" in str(e.value)


@pytest.mark.parametrize("name", ["bomb", "recursive", "list_key"])
def test_rules_check_on_a_hostile_pack_says_where_without_a_traceback(tmp_path, name):
    text = {h[0]: h[1] for h in HOSTILE}[name]
    (tmp_path / "pack.yaml").write_text(text)
    check = subprocess.run(
        [sys.executable, "-m", "opsbot", "rules", "check", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0
    assert f"{tmp_path / 'pack.yaml'}:" in check.stdout + check.stderr
    assert "Traceback" not in check.stderr
