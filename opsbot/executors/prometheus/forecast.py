"""`kind: forecast` — when a metric will cross its threshold, from a robust trend over recent history."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import format_duration, human_span
from opsbot.core.reply import Image, Reply, Table
from opsbot.executors import forecast as fc
from opsbot.executors.charts import MAX_LINES, Chart, Line, format_value
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.formatting import MAX_ROWS, chart_filename, render, signed, utc
from opsbot.executors.prometheus.series import series_names

FORECAST_MAX_LOOKBACK = 7 * 86400


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    metric = str(action.params.get("metric") or "")
    queries = fields.queries
    deployment = action.params.get("deployment")
    per_deployment = metric == "requests" and bool(deployment) and "deployment_requests" in queries
    query = queries.get("deployment_requests" if per_deployment else metric)
    if not query:
        return Reply.error(f"Rule {action.rule_id} has no forecast query for {metric!r}.")
    threshold = fields.thresholds.get(metric)
    unit = fields.units.get(metric)
    horizon = int(action.params.get("horizon_seconds") or 7 * 86400)
    horizon_text = format_duration(horizon)
    lookback = min(max(horizon, 3600), FORECAST_MAX_LOOKBACK, b.max_range)
    ctx.progress(f"Fitting {metric} over the last {format_duration(lookback)}…")
    series, now = b.fetch(query, lookback)
    dep_label = fields.deployment_label
    hosts = [t.name for t in action.targets]
    if per_deployment:
        series = [s for s in series if s.labels.get(dep_label) == deployment]
    series = [s for s in series if s.finite()]
    if not series:
        if per_deployment:
            return Reply(
                text=f"no {metric} data for {deployment} in the last {format_duration(lookback)} to "
                f'forecast from — are its metrics scraped with {dep_label}="{deployment}"?',
                kind="info",
            )
        source = "the service's /metrics" if metric == "requests" else "node_exporter"
        return Reply(text=b.no_data(hosts, format_duration(lookback), f"{metric} data", source), kind="info")
    names = series_names([s.labels for s in series], dep_label if per_deployment else b.host_label)
    if deployment and not per_deployment:
        names = [f"{n} ({deployment})" for n in names]
    results = [
        (n, s, fc.outlook(s.times, s.values, now, horizon, threshold)) for n, s in zip(names, series, strict=True)
    ]

    def order(r):
        o = r[2]
        if o is None:
            return (3, 0)
        if o.already:
            return (0, -o.last)
        if o.crosses_at is not None:
            return (1, o.crosses_at)
        return (2, -o.last)

    results.sort(key=order)
    sentences = [_sentence(metric, n, o, threshold, unit, horizon_text) for n, _, o in results]
    rows = []
    for n, s, o in results[:MAX_ROWS]:
        if o is None:
            rows.append([n, format_value(s.last, unit), "—", "—", "not enough history"])
            continue
        crosses = (
            "already"
            if o.already
            else f"{human_span(o.crosses_in or 0.0)} ({utc(o.crosses_at)})"
            if o.crosses_at is not None
            else f"not within {horizon_text}"
            if threshold is not None
            else "—"
        )
        rows.append(
            [n, format_value(o.last, unit), signed(o.per_day, unit) + "/day", format_value(o.at_horizon, unit), crosses]
        )
    label_col = dep_label if per_deployment else b.host_label
    table = Table(
        columns=[
            label_col,
            "now",
            "trend",
            f"in {horizon_text}",
            f"reaches {format_value(threshold, unit)}" if threshold is not None else "threshold",
        ],
        rows=rows,
        title=f"{metric} forecast, next {horizon_text}",
    )
    lines = []
    for n, s, o in results[:MAX_LINES]:
        lines.append(Line(label=n, times=s.times, values=s.values))
        if o is not None:
            ts, vs = fc.projection(o)
            lines.append(Line(label=f"{n} (forecast)", times=ts, values=vs, dashed=True))
    text = sentences[0] if len(sentences) == 1 else "\n".join(sentences[:MAX_ROWS])
    if all(o is None for _, _, o in results):
        return Reply(text=text, tables=[table], kind="info")  # nothing to draw but a dot
    start = min(s.times[0] for _, s, _ in results[:MAX_LINES])
    png = render(
        Chart(
            title=f"{metric} forecast, next {horizon_text}",
            unit=unit,
            lines=lines,
            threshold=threshold,
            now=now,
            x_range=(start, now + horizon),
        )
    )
    return Reply(
        text=text,
        tables=[table],
        images=[
            Image(
                title=f"{metric} forecast, next {horizon_text}",
                png=png,
                filename=chart_filename("forecast", metric, *names[:3]),
            )
        ],
    )


def _sentence(
    metric: str, name: str, o: fc.Outlook | None, threshold: float | None, unit: str | None, horizon_text: str
) -> str:
    if o is None:
        return f"{metric} on {name}: not enough history to forecast yet (I need at least a minute of data)."
    thr = format_value(threshold, unit) if threshold is not None else None
    full = threshold is not None and unit == "percent" and threshold >= 100
    note = ""
    if o.history_span < o.horizon / 4:
        note = f" (based on only {human_span(o.history_span).lstrip('~')} of history)"
    if o.already:
        return (
            f"{metric} on {name} is already {'full' if full else 'at ' + format_value(o.last, unit)} (threshold {thr})."
        )
    if o.crosses_at is not None:
        what = "full" if full else f"reaches {thr}"
        return (
            f"{metric} on {name} {what} in {human_span(o.crosses_in or 0.0)} (at {utc(o.crosses_at)}); "
            f"now {format_value(o.last, unit)}{note}."
        )
    if threshold is not None:
        return (
            f"{metric} on {name} is not expected to cross {thr} in the next {horizon_text}; "
            f"now {format_value(o.last, unit)}, trend {signed(o.per_day, unit)}/day{note}."
        )
    return (
        f"{metric} on {name}: now {format_value(o.last, unit)}, trend {signed(o.per_day, unit)}/day, "
        f"~{format_value(max(o.at_horizon, 0.0), unit)} expected in {horizon_text}{note}."
    )
