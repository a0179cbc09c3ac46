"""`llm.history DEPLOYMENT`: who deployed, scaled, rolled back or retired what and when (opsbot's store,
with who approved), joined with the registry (the version's registration, whether it is the champion or
archived now). A change the bot never finished (it was stopped mid-rollout) says so."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext, PastRun
from opsbot.core.reply import Reply, Table
from opsbot.executors.llmserve.common import ray_deployment, registry_of, when
from opsbot.i18n import _
from opsbot.serving.http import EngineError
from opsbot.serving.registry import ModelVersion
from opsbot.serving.rollout import find_version

CHANGES = ("llm.deploy", "llm.rollback", "llm.scale", "llm.retire")


def _what(run: PastRun) -> str:
    p = run.params
    if run.intent == "llm.deploy":
        return _("deploy {version}").format(version=p.get("version"))
    if run.intent == "llm.rollback":
        v = p.get("version")
        return _("roll back to {version}").format(version=v) if v and v != "previous" else _("roll back")
    if run.intent == "llm.scale":
        return _("scale to {replicas}").format(replicas=p.get("replicas"))
    return _("retire {version}").format(version=p.get("version"))


def _outcome(run: PastRun) -> str:
    return {
        "ok": _("done"),
        "failed": _("failed"),
        "running": _("unfinished"),
        "timeout": _("timed out"),
        "refused": _("refused"),
    }.get(run.status, run.status)


def history(config: Config, action: Action, ctx: ExecutionContext) -> Reply:
    rd = ray_deployment(config, action)
    runs = [r for r in ctx.history(CHANGES, 500) if r.params.get("deployment") == rd.name][:50]
    if not runs:
        return Reply(
            text=_("No deploys, rollbacks, scalings or retirements of {name} on record.").format(name=rd.name),
            kind="info",
        )
    versions: dict[str, ModelVersion] = {}
    champion = None
    try:
        reg = registry_of(config)
        versions = {v.version: v for v in reg.versions(rd.model)}
        model = reg.model(rd.model)
        champion = model.aliases.get(config.mlflow.alias) if model else None
    except EngineError:
        pass  # the store's side still answers
    rows = []
    for r in runs:
        note = ""
        v = str(r.params.get("version") or "")
        mv = find_version(versions, v)
        if mv is not None:
            note = _("registered {time}").format(time=when(mv.created))
            if mv.version == champion:
                note += ", " + config.mlflow.alias
            if mv.archived:
                note += ", " + _("archived")
        rows.append(
            [when(r.started_at), _what(r), r.user, r.approver or "—", _outcome(r), note or "—", r.summary[:120]]
        )
    table = Table(
        columns=[
            _("when (UTC)"),
            _("change"),
            _("asked by"),
            _("approved by"),
            _("outcome"),
            _("registry"),
            _("result"),
        ],
        rows=rows,
        title=_("History of {name}").format(name=rd.name),
    )
    unfinished = sum(1 for r in runs if r.status == "running")
    text = _("{count} changes to {name} on record, newest first.").format(count=len(runs), name=rd.name)
    if unfinished:
        text += " " + _("{count} never finished (the bot stopped mid-way); llm.status shows what Ray runs now.").format(
            count=unfinished
        )
    return Reply(text=text, tables=[table])
