"""Runbook files cut into sections: heading paths, GitHub anchors, plain text, code blocks kept for
people and left out of the sentences that may name an action."""

from opsbot.knowledge.actions import action_phrases
from opsbot.knowledge.sections import read_sections, slug, split_markdown

RUNBOOK = """Intro before any heading.

# PostgreSQL

## Failover (主从切换)

1. Promote the replica:

   ```sh
   pg_ctl promote -D /data
   ```

2. Point the api at the new primary (change the URL) and restart api on web-1 and web-2.

## Failover (主从切换)

The same heading again.
"""


def test_sections_carry_their_heading_path_file_and_github_anchor():
    sections = split_markdown(RUNBOOK, "db/postgres.md")
    ids = [s.id for s in sections]
    assert ids == [
        "db/postgres.md",
        "db/postgres.md#postgresql",
        "db/postgres.md#failover-主从切换",
        "db/postgres.md#failover-主从切换-1",
    ]
    failover = sections[2]
    assert failover.headings == ("PostgreSQL", "Failover (主从切换)") and failover.path == "db/postgres.md"
    assert "restart api on web-1" in failover.text and failover.commands == ("pg_ctl promote -D /data",)
    assert slug("502 Bad Gateway!") == "502-bad-gateway"


def test_plain_text_files_are_one_section_and_other_files_are_skipped(tmp_path):
    (tmp_path / "oncall.txt").write_text("Page the on-call engineer first.")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "kafka.md").write_text("# Kafka\n\nRestart brokers one at a time.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.md").write_text("# secret\n\nnot indexed")
    ids = [s.id for s in read_sections(tmp_path, "team")]
    assert ids == ["notes/kafka.md#kafka", "oncall.txt"]


def test_commands_in_code_blocks_are_never_candidate_actions():
    failover = split_markdown(RUNBOOK, "db/postgres.md")[2]
    phrases = action_phrases(failover.text)
    assert "restart api on web-1 and web-2" in phrases
    assert not any("pg_ctl" in p for p in phrases)
