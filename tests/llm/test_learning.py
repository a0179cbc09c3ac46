"""The learning effect, measured: a correction of one wording teaches the offline parser its paraphrase
(tests/llm/paraphrases.jsonl: slang, team jargon, unusual word order, English and Chinese), and the dev
set does not get worse. The figures are printed (pytest -s shows them)."""

from pathlib import Path

from opsbot.tuning.learning import load_pairs, measure

HERE = Path(__file__).parent


def test_the_paraphrase_set_has_at_least_twelve_pairs_in_both_languages():
    pairs = load_pairs(HERE / "paraphrases.jsonl")
    assert len(pairs) >= 12
    zh = [p for p in pairs if any("\u4e00" <= ch <= "\u9fff" for ch in p["second"]["text"])]
    assert 4 <= len(zh) < len(pairs)
    for p in pairs:
        assert p["first"]["text"] != p["second"]["text"] and p["first"]["intent"] == p["second"]["intent"]


def test_corrections_of_the_first_wordings_teach_the_second(tmp_path):
    lines = []
    figures = measure(
        HERE / "paraphrases.jsonl",
        HERE / "dev-config.yaml",
        HERE / "dev-commands.jsonl",
        database_url=f"sqlite:///{tmp_path / 'learning.db'}",
        out=lines.append,
    )
    print("\n".join(lines))
    assert figures["promoted"] == figures["pairs"]
    assert figures["second_before"] <= 0.25, "the pairs should be ones the offline parser gets wrong"
    assert figures["second_after"] >= figures["second_before"] + 0.5
    assert figures["first_after"] >= 0.9
    assert figures["dev_after"] >= figures["dev_before"]
