"""Arrows point inward: the core knows no front end, and the rule engine does no I/O."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "opsbot"
CORE = ["request.py", "task.py", "reply.py", "rules", "pipeline", "parsing", "executors", "store", "config"]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def files(*names):
    for name in names:
        p = PKG / name
        yield from ([p] if p.is_file() else p.rglob("*.py"))


def test_the_core_imports_no_front_end():
    for f in files(*CORE):
        bad = {m for m in imports(f) if m.startswith(("opsbot.frontends", "slack_bolt", "slack_sdk"))}
        assert not bad, f"{f.relative_to(PKG)} imports {bad}"


def test_rule_matching_does_no_io():
    io = ("opsbot.store", "sqlalchemy", "paramiko", "requests", "socket", "subprocess", "prometheus_api_client")
    for f in files("rules"):
        bad = {m for m in imports(f) if m.startswith(io)}
        assert not bad, f"{f.relative_to(PKG)} imports {bad}"
