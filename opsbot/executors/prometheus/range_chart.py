"""`kind: range` — a metric over a window: a chart, a min/avg/max/last table and a sentence per host."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import format_duration
from opsbot.core.reply import Image, Reply, Table
from opsbot.executors.charts import MAX_LINES, Chart, Line, format_value
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.formatting import MAX_ROWS, chart_filename, render
from opsbot.executors.prometheus.series import Series, series_names
from opsbot.i18n import _


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    query = fields.query
    if not query:
        return Reply.error(_("Rule {rule} has no `query` for Prometheus.").format(rule=action.rule_id))
    window = b.window(action)
    series, now = b.fetch(query, window)
    hosts = [t.name for t in action.targets]
    window_text = format_duration(window)
    if not any(s.finite() for s in series):
        return Reply(text=b.no_data(hosts, window_text), kind="info")
    reply = chart_reply(
        b,
        series,
        title=_(fields.title) if fields.title else action.intent,
        unit=fields.unit,
        window_text=window_text,
        name_prefix=action.intent,
        x_range=(now - window, now),
    )
    seen = {s.labels.get(b.host_label) for s in series if s.finite()}
    missing = [h for h in hosts if h not in seen]
    if missing:
        reply.text += " " + b.no_data(missing, window_text)
    return reply


def chart_reply(
    b: Backend,
    series: list[Series],
    title: str,
    unit: str | None,
    window_text: str,
    name_prefix: str,
    x_range: tuple[float, float] | None = None,
) -> Reply:
    series = [s for s in series if s.finite()]
    names = series_names([s.labels for s in series], b.host_label)
    stats = []
    for name, s in zip(names, series, strict=True):
        vals = s.finite()
        stats.append((name, s, min(vals), sum(vals) / len(vals), max(vals), vals[-1]))
    stats.sort(key=lambda r: -r[5])
    shown = stats[:MAX_LINES]
    heading = _("{title}, last {window}").format(title=title, window=window_text)
    png = render(
        Chart(
            title=heading,
            unit=unit,
            x_range=x_range,
            lines=[Line(label=n, times=s.times, values=s.values) for n, s, *_ in shown],
        )
    )
    col = b.host_label if all(b.host_label in s.labels for s in series) else _("series")
    table = Table(
        columns=[col, _("min"), _("avg"), _("max"), _("last")],
        rows=[
            [n, *(format_value(v, unit) for v in (lo, avg, hi, last))] for n, _s, lo, avg, hi, last in stats[:MAX_ROWS]
        ],
        title=heading,
    )
    if len(stats) == 1:
        n, _s, lo, avg, hi, last = stats[0]
        text = _("{title} on {name}, last {window}: now {last} (min {min}, avg {avg}, max {max}).").format(
            title=title,
            name=n,
            window=window_text,
            last=format_value(last, unit),
            min=format_value(lo, unit),
            avg=format_value(avg, unit),
            max=format_value(hi, unit),
        )
    else:
        top, low = stats[0], stats[-1]
        text = _(
            "{title}, last {window}, {count} series: highest now {top} at {top_value}, lowest {low} at {low_value}."
        ).format(
            title=title,
            window=window_text,
            count=len(stats),
            top=top[0],
            top_value=format_value(top[5], unit),
            low=low[0],
            low_value=format_value(low[5], unit),
        )
    if len(stats) > MAX_LINES:
        text += " " + _("The chart shows the top {count}.").format(count=MAX_LINES)
    if len(stats) > MAX_ROWS:
        table.title = heading + " " + _("(top {count} of {total})").format(count=MAX_ROWS, total=len(stats))
    return Reply(
        text=text,
        tables=[table],
        images=[Image(title=heading, png=png, filename=chart_filename(name_prefix, *(n for n, *_ in shown[:3])))],
    )
