"""The state-changing kinds (each behind approval in the rules): `deploy` and `rollback` through a
rollout (healthy within a bound, release checks, rollback by itself on failure, the alias moves on
success), `scale` (Ray's replica count, waited for), `retire` (archive a version; never the live one)."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply, Table
from opsbot.executors.llmserve.common import RayDeployment, ray_deployment, ray_of, registry_of
from opsbot.i18n import _
from opsbot.serving.http import EngineError
from opsbot.serving.rollout import Outcome, Rollout, resolve

ENGINE_TIMEOUT = 10.0


def _rollout(config: Config, rd: RayDeployment, ctx: ExecutionContext) -> Rollout:
    return Rollout(rd.dep, ray_of(rd, ENGINE_TIMEOUT), registry_of(config), config.mlflow.alias, ctx.progress)


def _reply(outcome: Outcome) -> Reply:
    tables = []
    if outcome.checks:
        tables.append(
            Table(
                columns=[_("release check"), _("result"), _("detail")],
                rows=[[c.name, _("passed") if c.ok else _("FAILED"), c.why] for c in outcome.checks],
                title=_("Release checks"),
            )
        )
    return Reply(text=outcome.message, kind="result" if outcome.ok else "error", tables=tables)


def _interrupted(rd: RayDeployment, e: EngineError, what: str) -> Reply:
    """The engine stopped answering mid-change: say so, and that the state is whatever Ray has now."""
    return Reply.error(
        _(
            "{what} of {name} did not complete: {problem} Ray may be mid-change; ask for llm.status to see what runs."
        ).format(what=what, name=rd.name, problem=e)
    )


def _deploy_known(r: Rollout, rd: RayDeployment, wanted: str, what: str) -> Reply:
    """Deploy `wanted` once the registry knows it: an unknown version changes nothing."""
    try:
        version = resolve(r.registry, rd.model, wanted)
    except EngineError as e:
        return Reply.error(str(e) + " " + _("Nothing was changed."))
    try:
        return _reply(r.deploy(version))  # resolved once, here
    except EngineError as e:
        return _interrupted(rd, e, what)


def deploy(config: Config, action: Action, ctx: ExecutionContext) -> Reply:
    rd = ray_deployment(config, action)
    return _deploy_known(_rollout(config, rd, ctx), rd, str(action.params.get("version") or ""), _("The deploy"))


def rollback(config: Config, action: Action, ctx: ExecutionContext) -> Reply:
    rd = ray_deployment(config, action)
    r = _rollout(config, rd, ctx)
    wanted = str(action.params.get("version") or "previous")
    try:
        if wanted == "previous":
            found = r.previous_version()
            if found is None:
                return Reply.error(
                    _(
                        "I know no previous version of {name} (no deploy recorded one); name the version to go back to."
                    ).format(name=rd.name)
                )
            wanted = found
    except EngineError as e:
        return Reply.error(str(e) + " " + _("Nothing was changed."))
    return _deploy_known(r, rd, wanted, _("The rollback"))


def scale(config: Config, action: Action, ctx: ExecutionContext) -> Reply:
    rd = ray_deployment(config, action)
    replicas = int(action.params["replicas"])
    if replicas < 1:
        return Reply.error(
            _("A Ray deployment needs at least one replica; use llm.retire for versions. Nothing was changed.")
        )
    try:
        return _reply(_rollout(config, rd, ctx).scale(replicas))
    except EngineError as e:
        return _interrupted(rd, e, _("Scaling"))


def retire(config: Config, action: Action, ctx: ExecutionContext) -> Reply:
    rd = ray_deployment(config, action)
    r = _rollout(config, rd, ctx)
    wanted = str(action.params.get("version") or "")
    try:
        v = resolve(r.registry, rd.model, wanted)
        live = r.live()
        model = r.registry.model(rd.model)
        champion = model.aliases.get(config.mlflow.alias) if model else None
    except EngineError as e:
        return Reply.error(str(e) + " " + _("Nothing was changed."))
    if v.version in (live, champion):
        return Reply.error(
            _(
                "Version {version} is live on {name} (or the {alias}); deploy another version before "
                "retiring it. Nothing was changed."
            ).format(version=v.version, name=rd.name, alias=config.mlflow.alias)
        )
    r.registry.archive(rd.model, v.version)
    return Reply(
        text=_("Version {version} of {model} is archived in the registry.").format(version=v.version, model=rd.model)
    )
