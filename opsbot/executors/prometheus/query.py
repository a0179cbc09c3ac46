"""`kind: query` — the user's own PromQL, checked for size and look-back, answered as a value, a table or a chart."""

from __future__ import annotations

import math
import re

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import format_duration, to_seconds
from opsbot.core.reply import Reply, Table
from opsbot.executors.charts import format_value
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.client import PromError
from opsbot.executors.prometheus.formatting import MAX_ROWS
from opsbot.executors.prometheus.range_chart import chart_reply
from opsbot.executors.prometheus.series import Series, number, series_from
from opsbot.i18n import _

MAX_PROMQL = 1000  # characters in a user's query
MAX_SUBQUERY_STEPS = 11000  # like query_range's own limit on points per series
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_promql(b: Backend, query: str) -> None:
    """User PromQL: one line, bounded length, bounded look-back. Raises PromError."""
    if not query or not query.strip():
        raise PromError(_("The PromQL query is empty."))
    if len(query) > MAX_PROMQL:
        raise PromError(
            _("That PromQL is {length} characters; the limit is {limit}.").format(length=len(query), limit=MAX_PROMQL)
        )
    if CONTROL.search(query):
        raise PromError(_("PromQL must be one line without control characters."))
    limit = format_duration(b.max_range)
    for inner in re.findall(r"\[([^\]]*)\]", query):
        rng, _colon, res = inner.partition(":")
        try:
            seconds = to_seconds(rng)
        except ValueError:
            continue  # Prometheus will say what is wrong with it
        if seconds > b.max_range:
            raise PromError(
                _("The query looks back {range}, more than the {limit} allowed here (prometheus.max_range).").format(
                    range=rng.strip(), limit=limit
                )
            )
        if res.strip():
            try:
                step = to_seconds(res)
            except ValueError:
                continue
            if step > 0 and seconds / step > MAX_SUBQUERY_STEPS:
                raise PromError(
                    _(
                        "The subquery [{inner}] would evaluate {steps} steps; use a resolution of at least {step}."
                    ).format(
                        inner=inner.strip(),
                        steps=f"{seconds / step:.0f}",
                        step=format_duration(math.ceil(seconds / MAX_SUBQUERY_STEPS)),
                    )
                )
    for off in re.findall(r"\boffset\s+-?([0-9a-z]+)", query, re.I):
        try:
            if to_seconds(off) > b.max_range:
                raise PromError(
                    _(
                        "The query reaches back {offset} with offset, more than the {limit} allowed "
                        "here (prometheus.max_range)."
                    ).format(offset=off, limit=limit)
                )
        except ValueError:
            continue


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    query = str(fields.query or action.params.get("promql") or "").strip()
    check_promql(b, query)
    window = b.window_if_given(action)
    short = query if len(query) <= 60 else query[:59] + "…"
    if window:
        series, now = b.fetch(query, window)
        window_text = format_duration(window)
        if not any(s.finite() for s in series):
            return Reply(
                text=_("{query} returned no data in the last {window}.").format(query=f"`{short}`", window=window_text),
                kind="info",
            )
        return chart_reply(
            b,
            series,
            title=fields.title or short,
            unit=fields.unit,
            window_text=window_text,
            name_prefix="promql",
            x_range=(now - window, now),
        )
    result = b.client.instant(query)
    unit = fields.unit
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
        value = result[1]  # scalar or string
        shown = format_value(number(value), unit) if not math.isnan(number(value)) else str(value)
        return Reply(text=f"`{short}` = {shown}", tables=[Table(columns=[_("value")], rows=[[shown]])])
    series = [series_from(r) for r in result or []]
    if not series:
        return Reply(text=_("{query} returned no series.").format(query=f"`{short}`"), kind="info")
    text = _("{query} returned {count} series.").format(query=f"`{short}`", count=len(series))
    if len(series) > MAX_ROWS:
        text = _("{query} returned {count} series; showing the top {top} by value.").format(
            query=f"`{short}`", count=len(series), top=MAX_ROWS
        )
    return Reply(text=text, tables=[instant_table(series, unit)])


def instant_table(series: list[Series], unit: str | None) -> Table:
    series = sorted(series, key=lambda s: -(s.last if s.last is not None else -math.inf))
    keys = sorted({k for s in series for k in s.labels}, key=lambda k: (k != "__name__", k))
    common: dict[str, str] = {}
    if len(series) > 1:
        common = {
            k: series[0].labels[k]
            for k in keys
            if k in series[0].labels and all(s.labels.get(k) == series[0].labels.get(k) for s in series)
        }
        keys = [k for k in keys if k not in common]
    matrix = any(len(s.values) > 1 for s in series)
    columns = [(_("metric") if k == "__name__" else k) for k in keys] + (
        [_("samples"), _("last")] if matrix else [_("value")]
    )
    rows = []
    for s in series[:MAX_ROWS]:
        row = [s.labels.get(k, "") for k in keys]
        row += [str(len(s.values)), format_value(s.last, unit)] if matrix else [format_value(s.last, unit)]
        rows.append(row)
    title = None
    if common:
        title = _("all rows: {labels}").format(
            labels=", ".join(v if k == "__name__" else f'{k}="{v}"' for k, v in common.items())
        )
    return Table(columns=columns, rows=rows, title=title)
