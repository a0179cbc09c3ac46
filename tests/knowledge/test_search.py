"""Runbook search without a model: BM25 over sections, English and Chinese, inventory names boosted,
"nothing relevant found" for questions the runbooks do not answer, scored on the labelled set that was
written before the search was tuned, through `opsbot eval`."""

import json
import os
import time
from pathlib import Path

from kb_helpers import QUESTIONS

from opsbot.cli import main
from opsbot.knowledge.index import KnowledgeIndex
from opsbot.knowledge.library import Library
from opsbot.knowledge.sections import split_markdown
from opsbot.knowledge.tokens import tokens
from opsbot.lab.lab import RUNBOOKS


def test_the_labelled_questions_find_the_right_section_in_the_top_3_and_nothing_for_the_rest(capsys):
    lab_inventory = Path(__file__).parents[1] / "llm" / "dev-config.yaml"  # the lab's hosts and services
    assert (
        main(["eval", str(QUESTIONS), "--runbooks", str(RUNBOOKS), "--config", str(lab_inventory), "--min", "0.9"]) == 0
    )
    out = capsys.readouterr().out
    summary = next(line for line in out.splitlines() if line.startswith("kb.ask on"))
    found, answered = map(int, summary.split("top 3 for ")[1].split(" ")[0].split("/"))
    none_ok, none = map(int, summary.split("found' for ")[1].split(" ")[0].split("/"))
    cases = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    assert len(cases) >= 60 and answered + none == len(cases) and none >= 5
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in c["text"]) for c in cases) >= 20
    assert found / answered >= 0.9 and none_ok == none


def test_chinese_is_cut_into_words_and_english_is_stemmed():
    assert tokens("pg-main 主从切换怎么做", expand=True)[:4] == ["pg-main", "pg", "main", "主从"]
    assert "failov" in tokens("主从切换", expand=True) and "failov" in tokens("how do we fail over?")
    assert tokens("restarting databases") == ["restart", "databas"]


def test_inventory_names_in_the_question_weigh_more():
    sections = split_markdown(
        "# Restarting\n\nRestart the service and watch the logs carefully.\n\n"
        "# web-2\n\nRestart nginx on web-2 after a config change.\n",
        "r.md",
    )
    plain, boosted = KnowledgeIndex(sections), KnowledgeIndex(sections, names=["web-2"])
    question = "restart on web-2"
    assert boosted.search(question)[0].section.anchor == "web-2"
    assert boosted.search(question)[0].score > plain.search(question)[0].score


def test_runbooks_are_re_read_when_they_change(config, tmp_path):
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "kafka.md").write_text("# Kafka\n\nThe streaming team owns kafka.\n")
    config.knowledge.sources[0].path = folder
    config.knowledge.refresh_seconds = 0
    library = Library(config)
    assert library.search("how do we fail over kafka") == []
    (folder / "kafka.md").write_text("# Kafka failover\n\nMove the partitions to the standby cluster.\n")
    future = time.time() + 5
    os.utime(folder / "kafka.md", (future, future))  # a clock-independent change of mtime
    assert library.search("how do we fail over kafka")[0].section.id == "kafka.md#kafka-failover"


def test_links_are_the_base_url_the_path_and_the_anchor(config):
    hit = Library(config).search("how do we fail over postgres?")[0]
    assert Library(config).link(hit.section) == (
        "https://git.example.com/ops/runbooks/blob/main/postgresql.md#failover-to-the-replica-主从切换"
    )
