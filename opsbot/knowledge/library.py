"""The runbooks of a config, indexed, and re-indexed when their files change: a question looks at the
files' names, sizes and modification times (at most every `refresh_seconds`) and rebuilds the index
when they differ. Thread-safe: front ends answer from several threads."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from opsbot.config import Config
from opsbot.knowledge.index import Hit, KnowledgeIndex
from opsbot.knowledge.sections import MARKDOWN, TEXT, Section, read_sections

log = logging.getLogger(__name__)


def source_name(path: Path, name: str | None) -> str:
    return name or path.name


class Library:
    def __init__(self, config: Config, clock=time.monotonic):
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._index: KnowledgeIndex | None = None
        self._signature: tuple = ()
        self._checked = float("-inf")
        self.problems: list[str] = []  # sources that could not be read, for the reply

    @property
    def configured(self) -> bool:
        return bool(self.config.knowledge.sources)

    def _files(self) -> tuple:
        out = []
        for src in self.config.knowledge.sources:
            if not src.path.is_dir():
                out.append((str(src.path), -1, -1))
                continue
            for p in sorted(src.path.rglob("*")):
                if p.suffix.lower() in MARKDOWN + TEXT and p.is_file():
                    st = p.stat()
                    out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def index(self) -> KnowledgeIndex:
        """The current index, rebuilt first when a file changed (checked at most every refresh_seconds)."""
        with self._lock:
            now = self.clock()
            if self._index is not None and now - self._checked < self.config.knowledge.refresh_seconds:
                return self._index
            self._checked = now
            signature = self._files()
            if self._index is None or signature != self._signature:
                self._index = self._build()
                self._signature = signature
            return self._index

    def _build(self) -> KnowledgeIndex:
        started = time.perf_counter()
        sections: list[Section] = []
        problems = []
        for src in self.config.knowledge.sources:
            if not src.path.is_dir():
                problems.append(f"{src.path} is not a folder")
                continue
            try:
                sections += read_sections(src.path, source_name(src.path, src.name))
            except OSError as e:
                problems.append(f"{src.path}: {e.strerror or e}")
        self.problems = problems
        inv = self.config.inventory
        names = [*inv.hosts, *inv.groups(), *inv.services(), *inv.deployments]
        built = KnowledgeIndex(sections, names)
        log.info("runbooks indexed: %d sections in %.0f ms", len(built), (time.perf_counter() - started) * 1000)
        return built

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        kc = self.config.knowledge
        return self.index().search(question, k or kc.top, kc.min_coverage, kc.min_score)

    def link(self, section: Section) -> str | None:
        """base URL + path + anchor, when the section's source has a base URL."""
        for src in self.config.knowledge.sources:
            if source_name(src.path, src.name) == section.source and src.base_url:
                anchor = f"#{section.anchor}" if section.anchor else ""
                return f"{src.base_url.rstrip('/')}/{section.path}{anchor}"
        return None
