"""Wheel build hook: compile the message catalogs (.po -> .mo) into the wheel, so an installed opsbot
answers in Chinese without compiling anything at run time."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogBuildHook(BuildHookInterface):
    PLUGIN_NAME = "catalogs"

    def initialize(self, version: str, build_data: dict) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        self._out = tempfile.TemporaryDirectory(prefix="opsbot-mo-")
        for po in sorted((root / "opsbot" / "i18n" / "locale").glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as f:
                catalog = read_po(f)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            rel = po.relative_to(root).with_suffix(".mo")
            out = Path(self._out.name) / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(buf.getvalue())
            build_data["force_include"][str(out)] = str(rel)

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        self._out.cleanup()
