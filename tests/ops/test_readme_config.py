"""Every configuration example in the README loads as written: a newcomer copies them."""

import re
from pathlib import Path

import pytest
import yaml

from opsbot.config import load_config
from opsbot.config.models import Config

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"```yaml\n(.*?)```", re.S)
OTHER_FILE = re.compile(r"# (?!opsbot)[\w.-]+\.ya?ml\b")


def config_blocks() -> list[tuple[int, str]]:
    """(line, text) of each YAML block whose top-level keys are config sections; a rule pack (`rules:`
    holding a list of rules) is a different file and is checked by the rules specs."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for m in FENCE.finditer(text):
        line = text[: m.start()].count("\n") + 2
        try:
            data = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            data = None
        if not isinstance(data, dict) or isinstance(data.get("rules"), list) or isinstance(data.get("alerts"), list):
            continue
        if OTHER_FILE.match(m.group(1)):  # another program's file (`# alertmanager.yml: ...`)
            continue
        blocks.append((line, m.group(1)))
    return blocks


def test_the_readme_has_config_examples():
    assert len(config_blocks()) >= 3


@pytest.mark.parametrize(
    ("line", "block"), config_blocks(), ids=lambda v: f"README.md:{v}" if isinstance(v, int) else ""
)
def test_each_readme_config_block_loads(line, block, tmp_path):
    assert set(yaml.safe_load(block)) <= set(Config.model_fields), f"README.md:{line}: not config sections"
    path = tmp_path / "opsbot.yaml"
    path.write_text(block, encoding="utf-8")
    load_config(path)  # a SourceError names the file, line and field
