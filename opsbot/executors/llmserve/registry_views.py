"""Read-only answers from MLflow's registry: `llm.models` (every registered model, its latest versions
and aliases), `llm.versions` (one deployment's versions with params, metrics and tags, and which one is
live on Ray) and `llm.compare` (what differs between two versions). Registry strings are shown as data."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action
from opsbot.core.reply import Reply, Table
from opsbot.executors.charts import format_value
from opsbot.executors.llmserve.common import RayDeployment, ray_deployment, ray_of, registry_of, when
from opsbot.i18n import _
from opsbot.serving.http import EngineError
from opsbot.serving.registry import ModelVersion
from opsbot.serving.rollout import resolve


def _pairs(d: dict[str, str] | dict[str, float], limit: int = 6) -> str:
    items = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(d.items())]
    return ", ".join(items[:limit]) + (" …" if len(items) > limit else "") if items else "—"


def _live(config: Config, rd: RayDeployment) -> str | None:
    """The version Ray serves now, or None when Ray does not answer (the registry still does)."""
    try:
        app = ray_of(rd, config.mlflow.timeout).application(rd.ray_cfg.app)
    except EngineError:
        return None
    return app.arg(rd.ray_cfg.version_arg) if app else None


def models(config: Config, action: Action) -> Reply:
    reg = registry_of(config)
    found = reg.models()
    if not found:
        return Reply(
            text=_("The registry at {url} has no registered models.").format(url=config.mlflow.url), kind="info"
        )
    served = {d.model: n for n, d in config.inventory.deployments.items() if d.engine == "ray" and d.model}
    rows = []
    for m in found:
        latest = max(m.latest, key=lambda v: int(v.version) if v.version.isdigit() else 0, default=None)
        who = reg.with_run(latest).user if latest else ""
        rows.append(
            [
                m.name,
                latest.version if latest else "—",
                ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())) or "—",
                who or "—",
                when(m.updated),
                served.get(m.name, "—"),
            ]
        )
    table = Table(
        columns=[_("model"), _("latest"), _("aliases"), _("registered by"), _("updated (UTC)"), _("deployment")],
        rows=rows,
        title=_("Registered models"),
    )
    text = _("{count} registered models in MLflow ({url}).").format(count=len(found), url=config.mlflow.url)
    return Reply(text=text, tables=[table])


def versions(config: Config, action: Action) -> Reply:
    rd = ray_deployment(config, action)
    reg = registry_of(config)
    model = reg.model(rd.model)
    if model is None:
        return Reply.error(
            _("The registry has no model {model}, which {deployment} names.").format(model=rd.model, deployment=rd.name)
        )
    live = _live(config, rd)
    alias_of: dict[str, list[str]] = {}
    for alias, number in model.aliases.items():
        alias_of.setdefault(number, []).append(alias)
    rows = []
    for found in reversed(reg.versions(rd.model)):
        v = reg.with_run(found)
        marks = [_("live")] if v.version == live else []
        marks += sorted(alias_of.get(v.version, []))
        if v.archived:
            marks.append(_("archived"))
        rows.append(
            [
                v.version,
                ", ".join(marks) or "—",
                when(v.created),
                _pairs(v.params),
                _pairs(v.metrics),
                _pairs(v.tags, 4),
            ]
        )
    table = Table(
        columns=[_("version"), _("state"), _("registered (UTC)"), _("params"), _("metrics"), _("tags")],
        rows=rows,
        title=_("Versions of {model}").format(model=rd.model),
    )
    if live is None:
        head = _("{count} versions of {model}; Ray Serve did not say which one is live.")
    else:
        head = _("{count} versions of {model}; version {live} is live on {deployment}.")
    return Reply(text=head.format(count=len(rows), model=rd.model, live=live, deployment=rd.name), tables=[table])


def _diff(a: dict, b: dict) -> list[tuple[str, str, str]]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va != vb:
            fmt = lambda x: "—" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))
            out.append((k, fmt(va), fmt(vb)))
    return out


def compare(config: Config, action: Action) -> Reply:
    rd = ray_deployment(config, action)
    reg = registry_of(config)
    first, second = str(action.params.get("version") or ""), str(action.params.get("other") or "")
    a: ModelVersion = reg.with_run(resolve(reg, rd.model, first))
    b: ModelVersion = reg.with_run(resolve(reg, rd.model, second))
    rows = [[_("param {name}").format(name=k), x, y] for k, x, y in _diff(a.params, b.params)]
    rows += [[_("metric {name}").format(name=k), x, y] for k, x, y in _diff(a.metrics, b.metrics)]
    rows += [[_("tag {name}").format(name=k), x, y] for k, x, y in _diff(a.tags, b.tags)]
    rows.append([_("artifacts"), format_value(a.artifact_bytes, "bytes"), format_value(b.artifact_bytes, "bytes")])
    rows.append([_("registered (UTC)"), when(a.created), when(b.created)])
    changed = len(rows) - 2
    table = Table(
        columns=["", _("version {v}").format(v=a.version), _("version {v}").format(v=b.version)],
        rows=rows,
        title=_("{model}: version {a} vs {b}").format(model=rd.model, a=a.version, b=b.version),
    )
    text = _("{model} versions {a} and {b} differ in {count} params, metrics or tags.").format(
        model=rd.model, a=a.version, b=b.version, count=changed
    )
    return Reply(text=text, tables=[table])
