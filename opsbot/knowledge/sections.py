"""Runbook files cut into sections: a heading, the path of headings above it, the text under it (up to
the next heading), the file and the anchor a Markdown renderer gives the heading (GitHub's rules), so a
reply can link to the very place. Plain-text files are one section each. Runbook text is untrusted
data: it is quoted and searched, never run or used as a template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

MARKDOWN = (".md", ".markdown")
TEXT = (".txt", ".text")
MAX_FILE_BYTES = 1_000_000  # a runbook, not a data dump


@dataclass(frozen=True)
class Section:
    id: str  # "path/to/file.md#anchor": stable while the file and the heading stay
    path: str  # relative to its source folder, with /
    anchor: str  # "" for a whole file
    title: str
    headings: tuple[str, ...]  # the heading path, outermost first, this section's own heading last
    text: str  # the body under the heading (Markdown source, headings excluded)
    source: str = ""  # the source's name (config), for the link's base URL
    commands: tuple[str, ...] = field(default=(), compare=False)  # code blocks: quoted, never run

    @property
    def heading_path(self) -> str:
        return " › ".join(self.headings)


_PUNCT = re.compile(r"[^\w\- ]", re.UNICODE)


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (CJK kept)."""
    return _PUNCT.sub("", heading.strip().lower()).replace(" ", "-")


def split_markdown(text: str, path: str, source: str = "") -> list[Section]:
    md = MarkdownIt("commonmark")
    tokens = md.parse(text)
    lines = text.splitlines()
    heads: list[tuple[int, int, str, int]] = []  # (level, first line, title, line after the heading)
    code: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            heads.append((int(tok.tag[1:]), tok.map[0], title, tok.map[1]))
        elif tok.type in ("fence", "code_block") and tok.map:
            code.append((tok.map[0], tok.content.strip()))
    sections: list[Section] = []
    used: dict[str, int] = {}
    stack: list[tuple[int, str]] = []
    first = heads[0][1] if heads else len(lines)
    preface = "\n".join(lines[:first]).strip()
    if preface:
        sections.append(_section(path, "", Path(path).stem, (Path(path).stem,), preface, source, code, 0, first))
    for n, (level, _start, title, body_start) in enumerate(heads):
        end = heads[n + 1][1] if n + 1 < len(heads) else len(lines)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        anchor = slug(title)
        if anchor in used:  # GitHub numbers repeated headings: x, x-1, x-2
            used[anchor] += 1
            anchor = f"{anchor}-{used[anchor]}"
        else:
            used[anchor] = 0
        body = "\n".join(lines[body_start:end]).strip()
        sections.append(_section(path, anchor, title, tuple(t for _, t in stack), body, source, code, body_start, end))
    return sections


def _section(
    path: str,
    anchor: str,
    title: str,
    headings: tuple[str, ...],
    body: str,
    source: str,
    code: list[tuple[int, str]],
    start: int,
    end: int,
) -> Section:
    commands = tuple(c for line, c in code if start <= line < end and c)
    return Section(
        id=f"{path}#{anchor}" if anchor else path,
        path=path,
        anchor=anchor,
        title=title,
        headings=headings,
        text=body,
        source=source,
        commands=commands,
    )


def split_text(text: str, path: str, source: str = "") -> list[Section]:
    body = text.strip()
    if not body:
        return []
    title = Path(path).stem
    return [Section(id=path, path=path, anchor="", title=title, headings=(title,), text=body, source=source)]


def read_sections(folder: Path, source: str = "") -> list[Section]:
    """Every section of the Markdown and text files under `folder` (hidden files skipped), in path order."""
    out: list[Section] = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or file.suffix.lower() not in MARKDOWN + TEXT:
            continue
        if file.stat().st_size > MAX_FILE_BYTES:
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        out += split_markdown(text, rel, source) if file.suffix.lower() in MARKDOWN else split_text(text, rel, source)
    return out
