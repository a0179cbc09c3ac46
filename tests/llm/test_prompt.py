"""The prompt template: sandboxed, versioned by content, and its token counts from the shipped BPE."""

import pytest
from jinja2.exceptions import SecurityError

from opsbot.parsing.prompt import Prompt, count_tokens, default_template, nearest_examples, similarity


def test_tokens_are_counted_with_the_cl100k_encoding_shipped_offline():
    assert count_tokens("hello world") == 2
    assert count_tokens("重启 web-1 上的 nginx") > 4


def test_the_prompt_version_is_the_file_name_and_its_content_hash(tmp_path):
    default = Prompt()
    assert default.version.startswith("parse.j2@") and len(default.version) == len("parse.j2@") + 10
    copy = tmp_path / "parse.j2"
    copy.write_text(default_template().read_text())
    assert Prompt(copy).version == default.version
    copy.write_text(default_template().read_text() + "\n{# changed #}")
    assert Prompt(copy).version != default.version


def test_a_template_without_system_and_user_blocks_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "bad.j2"
    bad.write_text("{% block system %}hi{% endblock %}")
    with pytest.raises(ValueError, match=r"bad\.j2.*user"):
        Prompt(bad)


def test_templates_render_in_a_sandbox(tmp_path):
    evil = tmp_path / "evil.j2"
    evil.write_text(
        "{% block system %}{{ text.__class__.__mro__[1].__subclasses__() }}{% endblock %}"
        "{% block user %}{{ text }}{% endblock %}"
    )
    with pytest.raises(SecurityError):
        Prompt(evil).render(text="x")


def test_nearest_examples_by_similarity_in_english_and_chinese():
    bank = [
        {"text": "web-1 vibe check, who is being greedy"},
        {"text": "有啥在报警没"},
        {"text": "give redis on cache-1 the old off and on"},
    ]
    assert nearest_examples("db-1 vibe check: who's greedy", bank, 1) == [bank[0]]
    assert nearest_examples("现在有啥报警", bank, 1) == [bank[1]]
    assert nearest_examples("completely unrelated words here", bank, 2) == []
    assert similarity("same text", "same text") == pytest.approx(1.0)
