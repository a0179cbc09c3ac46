"""Shared by the deploy specs: paths, and the Compose specification's JSON schema."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from opsbot.testing import component_missing

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent  # the venv's tools: hadolint, check-jsonschema, kubernetes-validate

# The Compose specification's schema as docker-compose 1.29 ships it (compose/config/compose_spec.json):
# fetched from PyPI into the venv on first use, not committed (it is someone else's file).
SCHEMA_PACKAGE = "docker-compose==1.29.2"
SCHEMA_MEMBER = "compose/config/compose_spec.json"
SCHEMA_CACHE = Path(sys.prefix) / "share" / "opsbot-tests" / "compose_spec.json"


def compose_schema() -> Path:
    if SCHEMA_CACHE.is_file():
        return SCHEMA_CACHE
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, SCHEMA_PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if got.returncode != 0 or not wheels:
            component_missing(f"cannot fetch the Compose schema ({SCHEMA_PACKAGE} from PyPI): {got.stderr[-500:]}")
        SCHEMA_CACHE.parent.mkdir(parents=True, exist_ok=True)
        SCHEMA_CACHE.write_bytes(zipfile.ZipFile(wheels[0]).read(SCHEMA_MEMBER))
    return SCHEMA_CACHE


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        component_missing(f"{name} is not installed in this venv: pip install -e '.[test]' (make venv does)")
    return str(path)
