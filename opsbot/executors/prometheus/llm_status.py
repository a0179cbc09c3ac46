"""`kind: llm_status` — LLM serving deployments' health from vLLM's metrics and their scrape targets."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply, Table
from opsbot.executors import forecast as fc
from opsbot.executors.charts import format_value
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.series import series_from
from opsbot.i18n import _

# vLLM's metric names; a rule may override any of them under `queries:`.
DEFAULT_LLM_QUERIES = {
    "rps": "sum by (model_name) (rate(vllm:request_success_total[5m]))",
    "running": "sum by (model_name) (vllm:num_requests_running)",
    "waiting": "sum by (model_name) (vllm:num_requests_waiting)",
    "p95": "histogram_quantile(0.95, sum by (model_name, le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))",
    "success": 'sum by (model_name) (rate(vllm:request_success_total{finished_reason!="abort"}[5m]))'
    " / sum by (model_name) (rate(vllm:request_success_total[5m]))",
    "gpu_cache": "100 * avg by (model_name) (vllm:gpu_cache_usage_perc)",
}


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    queries = {**DEFAULT_LLM_QUERIES, **fields.queries}
    dep_label = fields.deployment_label
    wanted = action.params.get("deployment")
    inventory = b.config.inventory.deployments
    # Ray Serve deployments are answered by name by the llmserve executor (Ray's own state, not vLLM's).
    on_ray = [n for n, d in inventory.items() if d.engine == "ray"]
    ray_note = (
        _("On Ray Serve: {names}; ask for one by name (how is {first} doing?).").format(
            names=", ".join(on_ray), first=on_ray[0]
        )
        if on_ray and not wanted
        else ""
    )
    if ray_note and all(d.engine == "ray" for d in inventory.values()):
        return Reply(text=ray_note, kind="info")  # nothing for vLLM's metrics to say
    values: dict[str, dict[str, float]] = {}
    for key, q in queries.items():
        result = b.client.instant(q)
        for s in (series_from(r) for r in (result or []) if isinstance(r, dict)):
            name = s.labels.get(dep_label)
            if name is not None and s.last is not None:
                values.setdefault(name, {})[key] = s.last
    up_by: dict[tuple[str, str], float | None] = {}
    for r in b.client.instant(f"max by ({b.host_label}, service) (up)") or []:
        if isinstance(r, dict):
            s = series_from(r)
            up_by[(s.labels.get(b.host_label, ""), s.labels.get("service", ""))] = s.last
    names = [wanted] if wanted else ([n for n in inventory if n not in on_ray] or ([] if on_ray else sorted(values)))
    if not names:
        if ray_note:
            return Reply(text=ray_note, kind="info")
        return Reply(text=_("No LLM deployments in the inventory, and no vLLM metrics in Prometheus."), kind="info")
    rows, sentences, states = [], [], {}
    for name in names:
        dep = inventory.get(name)
        v = values.get(name, {})
        up = up_by.get((dep.host, dep.service)) if dep and dep.host and dep.service else None
        if up is not None:
            state = "up" if up >= 1 else "down"
        else:
            state = "up" if v else "no data"
        states[name] = state
        cells = {
            "rps": format_value(v.get("rps"), "reqps"),
            "running": format_value(v.get("running")),
            "waiting": format_value(v.get("waiting")),
            "p95": format_value(v.get("p95"), "seconds"),
            "success": f"{100 * v['success']:.1f}%" if fc.is_finite(v.get("success")) else "—",
            "gpu_cache": format_value(v.get("gpu_cache"), "percent"),
        }
        shown_state = {"up": _("up"), "down": _("down"), "no data": _("no data")}[state]
        rows.append(
            [
                name,
                (dep.host or "") if dep else "",
                shown_state,
                cells["rps"],
                cells["running"],
                cells["waiting"],
                cells["p95"],
                cells["success"],
                cells["gpu_cache"],
            ]
        )
        who = _("{name} on {host}").format(name=name, host=dep.host) if dep and dep.host else name
        if state == "down":
            service = (dep.service if dep else None) or "serving"  # "down" comes from the deployment's own target
            sentences.append(
                _("{who} is DOWN: its {service} target is failing scrapes.").format(who=who, service=service)
            )
        elif state == "no data":
            sentences.append(
                _("No metrics for {who} — is its /metrics scraped, with {matcher} on the series?").format(
                    who=who, matcher=f'{dep_label}="{name}"'
                )
            )
        else:
            sentences.append(
                _(
                    "{who} is up: {rps}, {running} running, {waiting} waiting, p95 latency {p95}, "
                    "{success} success, GPU cache {gpu_cache}."
                ).format(who=who, **cells)
            )
    table = Table(
        columns=[
            _("deployment"),
            _("host"),
            _("up"),
            _("req/s"),
            _("running"),
            _("waiting"),
            _("p95 latency"),
            _("success"),
            _("GPU cache"),
        ],
        rows=rows,
        title=_("LLM deployments"),
    )
    if len(names) == 1:
        text = sentences[0]
    else:
        counts = {s: sum(1 for x in states.values() if x == s) for s in ("up", "down", "no data")}
        text = _("{count} LLM deployments: {up} up, {down} down").format(
            count=len(names), up=counts["up"], down=counts["down"]
        )
        if counts["no data"]:
            text += _(", {count} without data").format(count=counts["no data"])
        text += _(".") + "\n" + "\n".join(sentences)
    if ray_note:
        text += "\n" + ray_note
    return Reply(text=text, tables=[table])
