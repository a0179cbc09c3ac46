"""The message catalogs: every string the code and the rule packs show has a Chinese translation that
keeps its placeholders, and `_()` answers in the language of the request being handled."""

from __future__ import annotations

import gettext
import io
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from opsbot.i18n import _, current_language, detect_language, ngettext, translator, use_language
from opsbot.i18n.catalogs import compile_po, po_path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{[A-Za-z_][A-Za-z0-9_]*(?:![rs])?(?::[^{}]*)?\}|%\(\w+\)[sd]")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def placeholders(text: str) -> list[str]:
    """The {name} and {{ jinja }} placeholders of a message; words quoted inside Jinja may be translated."""
    return sorted({QUOTED.sub("''", p) for p in PLACEHOLDER.findall(text)})


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """The msgids `make messages` extracts from the code and the rule packs, now."""
    pot = tmp_path_factory.mktemp("pot") / "opsbot.pot"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "pyproject.toml",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            "opsbot",
            "rules",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


@pytest.fixture(scope="module")
def zh():
    with po_path("zh").open("rb") as f:
        return read_po(f)


def test_every_string_shown_to_people_has_a_chinese_translation(extracted, zh):
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in zh if m.id}
    missing = sorted(i for i in extracted if i not in translated)
    assert not missing, f"not in the zh catalog (run `make messages`, then translate): {missing[:10]}"
    empty = sorted(
        i
        for i in extracted
        if not all(translated[i].string if isinstance(translated[i].string, tuple) else [translated[i].string])
        or translated[i].fuzzy
    )
    assert not empty, f"untranslated or fuzzy in opsbot/i18n/locale/zh/LC_MESSAGES/opsbot.po: {empty[:10]}"


def test_translations_keep_every_placeholder(zh):
    for m in zh:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for s in strings:
            assert placeholders(s) == placeholders(ids[-1]), f"{m.id!r} -> {s!r}"


def test_a_catalog_compiles_from_its_po_without_a_build_step():
    zh = gettext.GNUTranslations(io.BytesIO(compile_po(po_path("zh"))))
    assert zh.gettext("Top processes on {{ host }}") == "{{ host }} 上的主要进程"


def test_underscore_answers_in_the_language_of_the_request():
    assert _("Top processes on {{ host }}") == "Top processes on {{ host }}"
    with use_language("zh"):
        assert _("Top processes on {{ host }}") == "{{ host }} 上的主要进程"
        assert translator().lang == "zh"
    assert current_language() == "en"
    with use_language("fr"):  # no catalog: English
        assert current_language() == "en"
    assert ngettext("{n} host", "{n} hosts", 2) == "{n} hosts"


def test_each_thread_keeps_its_own_language():
    seen: dict[str, list[str]] = {}
    both_inside = threading.Barrier(2)

    def handle(lang: str) -> None:
        with use_language(lang):
            both_inside.wait(timeout=30)  # the other thread has set its language too
            seen[lang] = [current_language(), _("Top processes on {{ host }}")]

    threads = [threading.Thread(target=handle, args=(lang,)) for lang in ("zh", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert seen == {"zh": ["zh", "{{ host }} 上的主要进程"], "en": ["en", "Top processes on {{ host }}"]}
    assert current_language() == "en"


@pytest.mark.parametrize(
    "text, names, fallback, lang",
    [
        ("重启 web-1 上的 nginx", (), "en", "zh"),
        ("cpu on web-1", (), "zh", "en"),
        ("web-1", ("web-1",), "zh", "zh"),  # an answer of names only continues the conversation's language
        ("nginx", ("nginx",), "en", "en"),
        ("2", (), "zh", "zh"),
        ("看看 db-1", (), "en", "zh"),
    ],
)
def test_language_of_a_message(text, names, fallback, lang):
    assert detect_language(text, names, fallback) == lang


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_catalog_is_well_formed_one_entry_per_message(lang):
    """What msgfmt -c checks: every msgid has its msgstr and none is defined twice (a merge that glues two
    entries together breaks both; Babel alone would read it silently)."""
    text = po_path(lang).read_text(encoding="utf-8")
    entries = [e for e in re.split(r"\n\s*\n", text) if "msgid" in e]
    glued = [e.splitlines()[0] for e in entries if len(re.findall(r"^msgid ", e, re.M)) != 1]
    assert not glued, f"entries glued together: {glued[:3]}"
    ids = [re.search(r'^msgid ((?:".*"\n?)+)', e, re.M).group(1) for e in entries]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)), "a message defined twice"
    assert text.count("POT-Creation-Date") == 1
