"""`llm.status` for a Ray deployment: the Serve application's and deployment's state and replicas from
Ray's REST API, the live version and the registry's champion, and request rate, p95 latency and error
ratio from Prometheus (which scrapes Ray's metrics). An unhealthy deployment is said plainly."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action
from opsbot.core.reply import Reply, Table
from opsbot.executors.charts import format_value
from opsbot.executors.llmserve import metrics
from opsbot.executors.llmserve.common import ray_deployment, ray_of, registry_of
from opsbot.i18n import _
from opsbot.serving.http import EngineError

TIMEOUT = 10.0


def status(config: Config, action: Action) -> Reply:
    rd = ray_deployment(config, action)
    try:
        app = ray_of(rd, TIMEOUT).application(rd.ray_cfg.app)
    except EngineError as e:
        return Reply.error(_("I can't tell how {name} is: {problem}").format(name=rd.name, problem=e))
    if app is None:
        return Reply.error(
            _("Ray Serve runs no application {app}, so {name} is not serving.").format(app=rd.ray_cfg.app, name=rd.name)
        )
    dep = app.deployments.get(rd.ray_cfg.deployment)
    live = app.arg(rd.ray_cfg.version_arg) or "?"
    champion = None
    try:
        model = registry_of(config).model(rd.model)
        champion = model.aliases.get(config.mlflow.alias) if model else None
    except EngineError:
        pass
    try:
        m = metrics.instant(config, rd)
        metrics_note = ""
    except Exception as e:  # Prometheus down: Ray's own answer still stands
        m, metrics_note = {}, " " + _("(no metrics: {problem})").format(problem=str(e)[:200])
    rps, p95 = format_value(m.get("rps"), "reqps"), format_value(m.get("p95"), "seconds")
    errors = format_value(m.get("errors"), "ratio")
    running = dep.running if dep else 0
    starting = dep.starting if dep else 0
    target = dep.target_replicas if dep and dep.target_replicas is not None else "?"
    dep_status = dep.status if dep else _("missing")
    healthy = app.status == "RUNNING" and dep is not None and dep.status == "HEALTHY"
    if healthy:
        text = _(
            "{name} is healthy on Ray Serve: version {version}, {running}/{target} replicas running; {rps}, "
            "p95 latency {p95}, {errors} errors."
        ).format(name=rd.name, version=live, running=running, target=target, rps=rps, p95=p95, errors=errors)
    else:
        why = (dep.message if dep else "") or app.message or "—"
        text = _(
            "{name} is NOT healthy: Ray says the application is {app_status} and the deployment {dep_status} "
            "({why}); version {version}, {running} running, {starting} starting of {target}."
        ).format(
            name=rd.name,
            app_status=app.status,
            dep_status=dep_status,
            why=why[:300],
            version=live,
            running=running,
            starting=starting,
            target=target,
        )
    if champion and champion != live:
        text += " " + _(
            "The registry's {alias} is version {champion}, not the live {version}: a deploy did not finish."
        ).format(alias=config.mlflow.alias, champion=champion, version=live)
    text += metrics_note
    table = Table(
        columns=[
            _("deployment"),
            _("application"),
            _("state"),
            _("version"),
            _("replicas"),
            _("starting"),
            _("req/s"),
            _("p95 latency"),
            _("errors"),
        ],
        rows=[[rd.name, app.status, dep_status, live, f"{running}/{target}", str(starting), rps, p95, errors]],
        title=_("Ray Serve"),
    )
    return Reply(text=text, tables=[table])
