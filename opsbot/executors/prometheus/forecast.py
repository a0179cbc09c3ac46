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
from opsbot.executors.prometheus.series import Series, choose_step, series_names
from opsbot.i18n import _

FORECAST_MAX_LOOKBACK = 7 * 86400


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    metric = str(action.params.get("metric") or "")
    queries = fields.queries
    deployment = action.params.get("deployment")
    per_deployment = metric == "requests" and bool(deployment) and "deployment_requests" in queries
    query = queries.get("deployment_requests" if per_deployment else metric)
    if not query:
        return Reply.error(
            _("Rule {rule} has no forecast query for {metric}.").format(rule=action.rule_id, metric=repr(metric))
        )
    threshold = fields.thresholds.get(metric)
    unit = fields.units.get(metric)
    horizon = int(action.params.get("horizon_seconds") or 7 * 86400)
    horizon_text = format_duration(horizon)
    lookback = min(max(horizon, 3600), FORECAST_MAX_LOOKBACK, b.max_range)
    step = choose_step(lookback, b.config.prometheus.max_points)  # what fetch asks for: the fit needs MIN_POINTS
    ctx.progress(_("Fitting {metric} over the last {window}…").format(metric=metric, window=format_duration(lookback)))
    series, now = b.fetch(query, lookback)
    dep_label = fields.deployment_label
    hosts = [t.name for t in action.targets]
    if per_deployment:
        series = [s for s in series if s.labels.get(dep_label) == deployment]
    series = [s for s in series if s.finite()]
    if not series:
        if per_deployment:
            return Reply(
                text=_(
                    "No {metric} data for {deployment} in the last {window} to forecast from — are "
                    "its metrics scraped with {matcher}?"
                ).format(
                    metric=metric,
                    deployment=deployment,
                    window=format_duration(lookback),
                    matcher=f'{dep_label}="{deployment}"',
                ),
                kind="info",
            )
        source = _("the service's /metrics") if metric == "requests" else "node_exporter"
        return Reply(
            text=b.no_data(hosts, format_duration(lookback), _("{metric} data").format(metric=metric), source),
            kind="info",
        )
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
    sentences = [_sentence(metric, n, s, o, threshold, unit, horizon_text, step) for n, s, o in results]
    rows = []
    for n, s, o in results[:MAX_ROWS]:
        if o is None:
            rows.append([n, format_value(s.last, unit), "—", "—", _("not enough history")])
            continue
        crosses = (
            _("already")
            if o.already
            else f"{human_span(o.crosses_in or 0.0)} ({utc(o.crosses_at)})"
            if o.crosses_at is not None
            else _("not within {horizon}").format(horizon=horizon_text)
            if threshold is not None
            else "—"
        )
        rows.append(
            [
                n,
                format_value(o.last, unit),
                _("{trend}/day").format(trend=signed(o.per_day, unit)),
                format_value(o.at_horizon, unit),
                crosses,
            ]
        )
    label_col = dep_label if per_deployment else b.host_label
    heading = _("{metric} forecast, next {horizon}").format(metric=metric, horizon=horizon_text)
    table = Table(
        columns=[
            label_col,
            _("now"),
            _("trend"),
            _("in {horizon}").format(horizon=horizon_text),
            _("reaches {threshold}").format(threshold=format_value(threshold, unit))
            if threshold is not None
            else _("threshold"),
        ],
        rows=rows,
        title=heading,
    )
    lines = []
    for n, s, o in results[:MAX_LINES]:
        lines.append(Line(label=n, times=s.times, values=s.values))
        if o is not None:
            ts, vs = fc.projection(o)
            lines.append(Line(label=_("{name} (forecast)").format(name=n), times=ts, values=vs, dashed=True))
    text = sentences[0] if len(sentences) == 1 else "\n".join(sentences[:MAX_ROWS])
    if all(r[2] is None for r in results):
        return Reply(text=text, tables=[table], kind="info")  # nothing to draw but a dot
    start = min(r[1].times[0] for r in results[:MAX_LINES])
    png = render(
        Chart(title=heading, unit=unit, lines=lines, threshold=threshold, now=now, x_range=(start, now + horizon))
    )
    return Reply(
        text=text,
        tables=[table],
        images=[Image(title=heading, png=png, filename=chart_filename("forecast", metric, *names[:3]))],
    )


def _sentence(
    metric: str,
    name: str,
    series: Series,
    o: fc.Outlook | None,
    threshold: float | None,
    unit: str | None,
    horizon_text: str,
    step: int,
) -> str:
    if o is None:
        have = fc.span_of(series.times, series.values)
        return _(
            "{metric} on {name}: not enough history to forecast yet. With one point every {step}, a {horizon} "
            "forecast needs {needed} of steady data; there is {have}."
        ).format(
            metric=metric,
            name=name,
            step=format_duration(step),
            horizon=horizon_text,
            needed=format_duration(fc.history_needed(step)),
            have=format_duration(have) if have >= 1 else _("none yet"),
        )
    thr = format_value(threshold, unit) if threshold is not None else None
    full = threshold is not None and unit == "percent" and threshold >= 100
    note = ""
    if o.history_span < o.horizon / 4:
        note = " " + _("(based on only {span} of history)").format(span=human_span(o.history_span).lstrip("~"))
    now_value = format_value(o.last, unit)
    if o.already:
        return (
            _("{metric} on {name} is already full (threshold {threshold}).")
            if full
            else _("{metric} on {name} is already at {value} (threshold {threshold}).")
        ).format(metric=metric, name=name, value=now_value, threshold=thr)
    if o.crosses_at is not None:
        return (
            _("{metric} on {name} full in {span} (at {time}); now {value}{note}.")
            if full
            else _("{metric} on {name} reaches {threshold} in {span} (at {time}); now {value}{note}.")
        ).format(
            metric=metric,
            name=name,
            threshold=thr,
            span=human_span(o.crosses_in or 0.0),
            time=utc(o.crosses_at),
            value=now_value,
            note=note,
        )
    if threshold is not None:
        return _(
            "{metric} on {name} is not expected to cross {threshold} in the next {horizon}; now {value}, "
            "trend {trend}/day{note}."
        ).format(
            metric=metric,
            name=name,
            threshold=thr,
            horizon=horizon_text,
            value=now_value,
            trend=signed(o.per_day, unit),
            note=note,
        )
    return _("{metric} on {name}: now {value}, trend {trend}/day, ~{expected} expected in {horizon}{note}.").format(
        metric=metric,
        name=name,
        value=now_value,
        trend=signed(o.per_day, unit),
        expected=format_value(max(o.at_horizon, 0.0), unit),
        horizon=horizon_text,
        note=note,
    )
