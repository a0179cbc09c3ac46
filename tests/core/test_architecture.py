"""Arrows point inward (docs/DESIGN.md, What may import what): the core knows no front end, the rule
engine and the executors know each other only through the core, matching does no I/O, and nobody reaches
into another module's private names."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "opsbot"
INNER = ("rules", "pipeline", "parsing", "store", "executors", "serving", "config")
OUTER = ("opsbot.frontends", "opsbot.lab", "opsbot.testing", "slack_bolt", "slack_sdk")
RULES_MAY_USE_FROM_EXECUTORS = ("opsbot.executors.registry", "opsbot.executors.fields")
IO = ("opsbot.store", "sqlalchemy", "paramiko", "requests", "socket", "subprocess", "prometheus_api_client", "urllib")


@dataclass(frozen=True)
class Import:
    module: str  # the module imported from (absolute)
    names: tuple[str, ...]  # the names taken from it (empty for `import x`)
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[Import]:
    """Every import in the file, relative ones resolved, including those under TYPE_CHECKING."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [Import(a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.append(Import(module, tuple(a.name for a in node.names), node.lineno))
    return out


def files(*rooms: str) -> list[Path]:
    out: list[Path] = []
    for room in rooms:
        p = PKG / room
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(paths: list[Path], bad) -> list[str]:
    """`bad(import) -> bool`, checked over every import of `paths`; the offenders as file:line: module."""
    return [f"{p.relative_to(ROOT)}:{i.line}: {i.module}" for p in paths for i in imports(p) if bad(i)]


def test_the_core_imports_nothing_of_opsbot_but_the_config_and_the_catalogs():
    assert (
        violations(
            files("core"),
            lambda i: under(i.module, "opsbot") and not under(i.module, "opsbot.core", "opsbot.config", "opsbot.i18n"),
        )
        == []
    )


def test_the_catalogs_are_a_leaf_every_room_may_use():
    assert violations(files("i18n"), lambda i: under(i.module, "opsbot") and not under(i.module, "opsbot.i18n")) == []


def test_the_inner_rooms_import_no_front_end_lab_or_testing_helpers():
    assert violations(files("core", *INNER), lambda i: under(i.module, *OUTER)) == []


def test_executors_never_import_the_rule_engine():
    assert violations(files("executors"), lambda i: under(i.module, "opsbot.rules")) == []


def test_the_rule_engine_imports_no_executor_implementation():
    assert (
        violations(
            files("rules"),
            lambda i: under(i.module, "opsbot.executors") and not under(i.module, *RULES_MAY_USE_FROM_EXECUTORS),
        )
        == []
    )


def test_what_the_rule_engine_uses_from_the_executors_stays_light():
    light = [PKG / "executors" / "registry.py", PKG / "executors" / "fields.py"]
    assert (
        violations(
            light,
            lambda i: (
                under(i.module, "opsbot")
                and not under(i.module, "opsbot.core", "opsbot.config", *RULES_MAY_USE_FROM_EXECUTORS)
            ),
        )
        == []
    )
    assert violations(light, lambda i: under(i.module, *IO, "matplotlib", "numpy")) == []


def test_rule_matching_does_no_io():
    assert violations(files("rules"), lambda i: under(i.module, *IO)) == []


def test_the_config_does_not_import_the_scheduler():
    assert violations(files("config"), lambda i: under(i.module, "opsbot.scheduler")) == []


def test_nobody_imports_a_private_name_from_another_module():
    everything = (
        sorted(PKG.rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    )
    private = lambda i: (  # `_` alone is gettext's conventional name (opsbot.i18n), not a private one
        any(n.startswith("_") and not n.startswith("__") and n != "_" for n in i.names)
        or any(part.startswith("_") and not part.startswith("__") for part in i.module.split("."))
    )
    assert violations(everything, private) == []
