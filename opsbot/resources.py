"""Where the files that ship with opsbot are: inside the wheel (opsbot/_data) or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The shipped folder `name` ("rules" or "prompts")."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"opsbot's {name}/ folder is missing from this installation")
