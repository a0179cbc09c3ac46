"""The gate of `opsbot tune --gate DATASET…`: a new bank of learned examples is promoted only when the
offline parser with it is at least as accurate as with the current bank on every labelled set given
(the dev set, the held-out sets). A set may name its own inventory: `FILE=CONFIG`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opsbot.config import Config, load_config
from opsbot.rules.loader import RuleSet, load_for
from opsbot.tuning.evaluate import load_cases, score


@dataclass(frozen=True)
class GateResult:
    dataset: str
    before: float
    after: float

    @property
    def lowered(self) -> bool:
        return self.after < self.before

    def describe(self) -> str:
        delta = (self.after - self.before) * 100
        return f"{self.dataset}: accuracy {self.before:.3f} -> {self.after:.3f} ({delta:+.1f} points)"


def parse_gate(spec: str, default: Config) -> tuple[Path, Config]:
    """`FILE` (scored with the tune's own config) or `FILE=CONFIG` (with that inventory)."""
    path, _, config = spec.partition("=")
    return Path(path), load_config(config) if config else default


def accuracy(cases: list[dict], rules: RuleSet, config: Config, bank: list[dict]) -> float:
    from opsbot.parsing.offline import OfflineParser

    parser = OfflineParser(rules, config, learned=bank)
    good = sum(score(c, parser.parse(c["text"]).public())[0] for c in cases)
    return round(good / len(cases), 4) if cases else 1.0


def check_gate(specs: list[str], config: Config, current: list[dict], proposed: list[dict]) -> list[GateResult]:
    results = []
    for spec in specs:
        path, cfg = parse_gate(spec, config)
        cases = load_cases(path)
        rules = load_for(cfg)
        results.append(
            GateResult(path.name, accuracy(cases, rules, cfg, current), accuracy(cases, rules, cfg, proposed))
        )
    return results
