"""Answers from Prometheus' read-only HTTP API: charts and summaries, user PromQL, alerts, targets,
forecasts and LLM deployment health.

The rule's action says what to do (`kind`) and carries the PromQL, already rendered by the rule engine
with escaped label matchers. This executor never puts a user's value into PromQL itself: where it needs
to pick out a deployment it filters the query result by label instead. It only calls the query,
query_range, alerts and targets endpoints.
"""

from __future__ import annotations

import ast
import json
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from opsbot.config import Config
from opsbot.durations import format_duration, parse_duration
from opsbot.executors import forecast as fc
from opsbot.executors.base import Action, ExecutionContext
from opsbot.executors.charts import MAX_LINES, Chart, Line, format_value
from opsbot.i18n import _, ngettext
from opsbot.reply import Image, Reply, Table

MAX_PROMQL = 1000  # characters in a user's query
MAX_ROWS = 20  # table rows for a query or a summary
MAX_ALERT_ROWS = 30
MAX_SUBQUERY_STEPS = 11000  # like query_range's own limit on points per series
DEFAULT_WINDOW = 3600
FORECAST_MAX_LOOKBACK = 7 * 86400
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

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


class PromError(Exception):
    """Something the user should read: one sentence."""


@dataclass
class Series:
    labels: dict[str, str]
    times: list[float]
    values: list[float]

    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def last(self) -> float | None:
        vals = self.finite()
        return vals[-1] if vals else None


# ------------------------------------------------------------------------------------------------ the client


class PrometheusClient:
    """prometheus-api-client with a timeout, no status retries, and errors turned into sentences."""

    def __init__(self, url: str, timeout: float):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # Connection attempts are retried briefly; reads and HTTP statuses are not (a 503 is an answer).
        retry = Retry(
            total=None, connect=2, read=False, status=0, other=0, redirect=2, backoff_factor=0.1, raise_on_status=False
        )
        # The library passes `timeout` straight to requests; (connect, read). Prometheus gets the query
        # timeout as a parameter too, so it gives up first and says so.
        self.request_timeout = (min(max(timeout, 1.0), 5.0), timeout + 1.0)
        self.api = PrometheusConnect(url=self.url, session=self.session, retry=retry, timeout=self.request_timeout)

    def close(self) -> None:
        self.session.close()

    @property
    def _server_timeout(self) -> dict[str, str]:
        return {"timeout": f"{self.timeout:g}"}

    def instant(self, query: str) -> list | dict:
        return self._call(lambda: self.api.custom_query(query, params=self._server_timeout))

    def range(self, query: str, start: float, end: float, step: int) -> list[Series]:
        result = self._call(
            lambda: self.api.custom_query_range(
                query,
                datetime.fromtimestamp(start, tz=timezone.utc),
                datetime.fromtimestamp(end, tz=timezone.utc),
                str(step),
                params=self._server_timeout,
            )
        )
        return [_series(r) for r in result or []]

    def alerts(self) -> list[dict]:
        def get():
            r = self.session.get(f"{self.url}/api/v1/alerts", timeout=self.request_timeout)
            if r.status_code != 200:
                raise PrometheusApiClientException(f"HTTP Status Code {r.status_code} ({r.content!r})")
            return r.json()["data"]["alerts"]

        return self._call(get)

    def targets(self) -> list[dict]:
        return self._call(lambda: self.api.get_targets(state="active")["activeTargets"])

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except PrometheusApiClientException as e:
            raise PromError(self._http_error(str(e))) from None
        except requests.exceptions.Timeout:
            raise PromError(self._slow()) from None
        except requests.exceptions.ConnectionError as e:
            if "Read timed out" in str(e):
                raise PromError(self._slow()) from None
            raise PromError(_("Prometheus at {url} is not answering; is it running?").format(url=self.url)) from None
        except requests.exceptions.RequestException as e:
            raise PromError(
                _("I could not ask Prometheus at {url}: {error}.").format(url=self.url, error=type(e).__name__)
            ) from None
        except (ValueError, KeyError, TypeError):
            raise PromError(
                _(
                    "Prometheus at {url} sent an answer I cannot read; is prometheus.url really a Prometheus server?"
                ).format(url=self.url)
            ) from None

    @property
    def _limit(self) -> str:
        return f"{self.timeout:g}s" if self.timeout >= 1 else f"{self.timeout * 1000:g}ms"

    def _slow(self) -> str:
        return _("Prometheus at {url} did not answer within {limit}; try a shorter window or a simpler query.").format(
            url=self.url, limit=self._limit
        )

    def _http_error(self, message: str) -> str:
        """The library's "HTTP Status Code 400 (b'{...}')" as one sentence, quoting Prometheus briefly."""
        m = re.match(r"HTTP Status Code (\d+) \((b(['\"]).*\3)\)\s*$", message, re.S)
        code, error_type, error = 0, "", ""
        if m:
            code = int(m[1])
            try:
                doc = json.loads(ast.literal_eval(m[2]))
                error_type, error = doc.get("errorType", ""), doc.get("error", "")
            except (ValueError, SyntaxError, TypeError, AttributeError):
                error = ""
        brief = _brief(error)
        if error_type == "bad_data" or code == 400:
            return _("Prometheus rejected the query: {error}.").format(error=brief or "bad request")
        if error_type == "execution" or code == 422:
            return _("Prometheus could not execute the query: {error}.").format(error=brief or "execution error")
        if error_type == "timeout":
            return _(
                "The query ran longer than the {limit} allowed (prometheus.timeout) and Prometheus stopped "
                "it; try a shorter window or a simpler query."
            ).format(limit=self._limit)
        if code in (401, 403):
            return _("Prometheus at {url} refused the request (HTTP {code}); check its credentials.").format(
                url=self.url, code=code
            )
        if code == 404:
            return _("{url} has no Prometheus API there (HTTP 404); is prometheus.url right?").format(url=self.url)
        if code == 503 or error_type in ("unavailable", "canceled"):
            return _("Prometheus at {url} is not ready ({error}); try again in a moment.").format(
                url=self.url, error=brief or "HTTP 503"
            )
        return _("Prometheus at {url} answered HTTP {code}.").format(
            url=self.url, code=f"{code or '?'}{': ' + brief if brief else ''}"
        )


def _brief(error: str, limit: int = 200) -> str:
    error = re.sub(r'^invalid parameter "[a-z_]+": ', "", error.strip())
    error = error.split(";many-to-many")[0]
    return error if len(error) <= limit else error[: limit - 1] + "…"


def _num(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _series(item: dict) -> Series:
    if "values" in item:
        pts = item["values"]
    else:
        pts = [item["value"]]
    return Series(
        labels=dict(item.get("metric") or {}), times=[float(t) for t, _ in pts], values=[_num(v) for _, v in pts]
    )


# ------------------------------------------------------------------------------------------------ helpers


def choose_step(window: float, max_points: int) -> int:
    """The smallest round step that keeps a range query at or under `max_points` points per series."""
    need = window / max(max_points - 1, 1)
    for s in NICE_STEPS:
        if s >= need:
            return s
    return math.ceil(need)


def promql_seconds(text: str) -> float:
    """A PromQL duration (1h30m, 500ms, 2d) in seconds; ValueError if it is not one."""
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text.strip())
    if not parts or "".join(a + b for a, b in parts) != text.strip():
        raise ValueError(text)
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * unit[u] for n, u in parts)


def series_names(label_sets: list[dict[str, str]], prefer: str) -> list[str]:
    """Short, distinct names: the `prefer` label (the host) when it tells the series apart, else that
    label plus the labels that vary, e.g. web-2{job="nginx"}; the metric name as a last resort."""
    keys = sorted({k for ls in label_sets for k in ls} - {"__name__"})
    unique = all(prefer in ls for ls in label_sets) and len({ls[prefer] for ls in label_sets}) == len(label_sets)
    varying = [k for k in keys if k != prefer and len({ls.get(k) for ls in label_sets}) > 1]
    names = []
    for ls in label_sets:
        base = ls.get(prefer, "")
        if unique:
            extra = []
        elif len(label_sets) == 1:
            extra = [k for k in keys if k != prefer]
        else:
            extra = varying
        inner = ",".join(f'{k}="{ls[k]}"' for k in extra if k in ls)
        names.append((base + (f"{{{inner}}}" if inner else "")) or ls.get("__name__") or "value")
    return names


def span_text(seconds: float) -> str:
    """A window or horizon as people say it: 7d rather than 1w, 90m, 6h."""
    seconds = int(seconds)
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    return format_duration(seconds)


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _ago(seconds: float) -> str:
    seconds = max(0, seconds)
    if seconds < 90:
        return _("{span} ago").format(span=f"{seconds:.0f}s")
    if seconds < 5400:
        return _("{span} ago").format(span=f"{seconds / 60:.0f}m")
    if seconds < 2 * 86400:
        return _("{span} ago").format(span=f"{seconds / 3600:.0f}h")
    return _("{span} ago").format(span=f"{seconds / 86400:.0f}d")


def _parse_rfc3339(text: str | None) -> float | None:
    if not text or text.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        return None
    base = datetime.fromisoformat(m[1] + ("+00:00" if m[3] == "Z" else m[3]))
    return base.timestamp() + (float(m[2]) if m[2] else 0.0)


def _filename(*parts: str) -> str:
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip("_") for p in parts if p)
    return (stem[:80] or "chart") + ".png"


# ------------------------------------------------------------------------------------------------ the executor


class PrometheusExecutor:
    name = "prometheus"

    def __init__(self, config: Config, clock: Callable[[], float] = time.time):
        self.config = config
        pc = config.prometheus
        self.url = pc.url.rstrip("/")
        self.host_label = pc.host_label
        self.max_range = parse_duration(pc.max_range)
        self.max_points = pc.max_points
        self.clock = clock
        self.client = PrometheusClient(self.url, pc.timeout)
        self.kinds: dict[str, Callable[[Action, ExecutionContext], Reply]] = {
            "range": self._range,
            "query": self._query,
            "alerts": self._alerts,
            "targets": self._targets,
            "forecast": self._forecast,
            "llm_status": self._llm_status,
        }

    def close(self) -> None:
        self.client.close()

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        kind = action.fields.get("kind")
        handler = self.kinds.get(kind)
        if handler is None:
            return Reply.error(
                _("Rule {rule} asks Prometheus for kind {kind}, which I don't know (known: {known}).").format(
                    rule=action.rule_id, kind=repr(kind), known=", ".join(self.kinds)
                )
            )
        if not LABEL_NAME.match(self.host_label):
            return Reply.error(
                _("prometheus.host_label {label} is not a Prometheus label name.").format(label=repr(self.host_label))
            )
        try:
            return handler(action, ctx)
        except PromError as e:
            return Reply.error(str(e))

    # -------------------------------------------------------------------------------------------- range

    def _window(self, action: Action, default: int | None = DEFAULT_WINDOW) -> int | None:
        window = action.params.get("window_seconds") or default
        if window is not None and window > self.max_range:
            raise PromError(
                _(
                    "A {window} window is longer than the {limit} Prometheus queries may cover here "
                    "(prometheus.max_range)."
                ).format(window=span_text(window), limit=span_text(self.max_range))
            )
        return window

    def _fetch(self, query: str, window: float) -> tuple[list[Series], float]:
        """A range query ending now, with `now` itself one of the evaluation points."""
        now = self.clock()
        step = choose_step(window, self.max_points)
        end = math.ceil(now)
        start = end - int(window // step) * step
        return self.client.range(query, start, end, step), end

    def _range(self, action: Action, ctx: ExecutionContext) -> Reply:
        query = action.fields.get("query")
        if not query:
            return Reply.error(_("Rule {rule} has no `query` for Prometheus.").format(rule=action.rule_id))
        window = self._window(action)
        series, now = self._fetch(query, window)
        hosts = [t.name for t in action.targets]
        window_text = span_text(window)
        if not any(s.finite() for s in series):
            return Reply(text=self._no_data(hosts, window_text), kind="info")
        reply = self._chart_reply(
            series,
            title=_(action.fields["title"]) if action.fields.get("title") else action.intent,
            unit=action.fields.get("unit"),
            window_text=window_text,
            name_prefix=action.intent,
            x_range=(now - window, now),
        )
        seen = {s.labels.get(self.host_label) for s in series if s.finite()}
        missing = [h for h in hosts if h not in seen]
        if missing:
            reply.text += " " + self._no_data(missing, window_text)
        return reply

    def _no_data(self, hosts: list[str], window_text: str, what: str = "", source: str = "node_exporter") -> str:
        label, what = self.host_label, what or _("data")
        if not hosts:
            return _("No {what} for any host in the last {window} — is {source} scraped with a {label} label?").format(
                what=what, window=window_text, source=source, label=label
            )
        if len(hosts) == 1:
            return _("No {what} for {host} in the last {window} — is {source} scraped with {matcher}?").format(
                what=what, host=hosts[0], window=window_text, source=source, matcher=f'{label}="{hosts[0]}"'
            )
        return _(
            "No {what} for {hosts} in the last {window} — is {source} scraped with a {label} label naming each host?"
        ).format(what=what, hosts=", ".join(hosts), window=window_text, source=source, label=label)

    def _chart_reply(
        self,
        series: list[Series],
        title: str,
        unit: str | None,
        window_text: str,
        name_prefix: str,
        x_range: tuple[float, float] | None = None,
    ) -> Reply:
        series = [s for s in series if s.finite()]
        names = series_names([s.labels for s in series], self.host_label)
        stats = []
        for name, s in zip(names, series):
            vals = s.finite()
            stats.append((name, s, min(vals), sum(vals) / len(vals), max(vals), vals[-1]))
        stats.sort(key=lambda r: -r[5])
        shown = stats[:MAX_LINES]
        heading = _("{title}, last {window}").format(title=title, window=window_text)
        png = _render(
            Chart(
                title=heading,
                unit=unit,
                x_range=x_range,
                lines=[Line(label=n, times=s.times, values=s.values) for n, s, *_ in shown],
            )
        )
        col = self.host_label if all(self.host_label in s.labels for s in series) else _("series")
        table = Table(
            columns=[col, _("min"), _("avg"), _("max"), _("last")],
            rows=[
                [n, *(format_value(v, unit) for v in (lo, avg, hi, last))]
                for n, _s, lo, avg, hi, last in stats[:MAX_ROWS]
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
            table.title += " " + _("(top {count} of {total})").format(count=MAX_ROWS, total=len(stats))
        return Reply(
            text=text,
            tables=[table],
            images=[Image(title=heading, png=png, filename=_filename(name_prefix, *(n for n, *_ in shown[:3])))],
        )

    # -------------------------------------------------------------------------------------------- query

    def check_promql(self, query: str) -> None:
        """User PromQL: one line, bounded length, bounded look-back. Raises PromError."""
        if not query or not query.strip():
            raise PromError(_("The PromQL query is empty."))
        if len(query) > MAX_PROMQL:
            raise PromError(
                _("That PromQL is {length} characters; the limit is {limit}.").format(
                    length=len(query), limit=MAX_PROMQL
                )
            )
        if CONTROL.search(query):
            raise PromError(_("PromQL must be one line without control characters."))
        limit = span_text(self.max_range)
        for inner in re.findall(r"\[([^\]]*)\]", query):
            rng, _colon, res = inner.partition(":")
            try:
                seconds = promql_seconds(rng)
            except ValueError:
                continue  # Prometheus will say what is wrong with it
            if seconds > self.max_range:
                raise PromError(
                    _(
                        "The query looks back {range}, more than the {limit} allowed here (prometheus.max_range)."
                    ).format(range=rng.strip(), limit=limit)
                )
            if res.strip():
                try:
                    step = promql_seconds(res)
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
                if promql_seconds(off) > self.max_range:
                    raise PromError(
                        _(
                            "The query reaches back {offset} with offset, more than the {limit} allowed "
                            "here (prometheus.max_range)."
                        ).format(offset=off, limit=limit)
                    )
            except ValueError:
                continue

    def _query(self, action: Action, ctx: ExecutionContext) -> Reply:
        query = str(action.fields.get("query") or action.params.get("promql") or "").strip()
        self.check_promql(query)
        window = self._window(action, default=None)
        short = query if len(query) <= 60 else query[:59] + "…"
        if window:
            series, now = self._fetch(query, window)
            window_text = span_text(window)
            if not any(s.finite() for s in series):
                return Reply(
                    text=_("{query} returned no data in the last {window}.").format(
                        query=f"`{short}`", window=window_text
                    ),
                    kind="info",
                )
            return self._chart_reply(
                series,
                title=action.fields.get("title") or short,
                unit=action.fields.get("unit"),
                window_text=window_text,
                name_prefix="promql",
                x_range=(now - window, now),
            )
        result = self.client.instant(query)
        unit = action.fields.get("unit")
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            value = result[1]  # scalar or string
            shown = format_value(_num(value), unit) if not math.isnan(_num(value)) else str(value)
            return Reply(text=f"`{short}` = {shown}", tables=[Table(columns=[_("value")], rows=[[shown]])])
        series = [_series(r) for r in result or []]
        if not series:
            return Reply(text=_("{query} returned no series.").format(query=f"`{short}`"), kind="info")
        text = _("{query} returned {count} series.").format(query=f"`{short}`", count=len(series))
        if len(series) > MAX_ROWS:
            text = _("{query} returned {count} series; showing the top {top} by value.").format(
                query=f"`{short}`", count=len(series), top=MAX_ROWS
            )
        return Reply(text=text, tables=[self._instant_table(series, unit)])

    def _instant_table(self, series: list[Series], unit: str | None) -> Table:
        series = sorted(series, key=lambda s: -(s.last if s.last is not None else -math.inf))
        keys = sorted({k for s in series for k in s.labels}, key=lambda k: (k != "__name__", k))
        common = {}
        if len(series) > 1:
            common = {
                k: series[0].labels.get(k)
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

    # -------------------------------------------------------------------------------------------- alerts

    def _alerts(self, action: Action, ctx: ExecutionContext) -> Reply:
        severity = action.params.get("severity")
        alerts = [a for a in self.client.alerts() if a.get("state") in ("firing", "pending")]
        if severity:
            alerts = [a for a in alerts if str(a.get("labels", {}).get("severity", "")).lower() == severity.lower()]
        what = _("{severity} alerts").format(severity=severity) if severity else _("alerts")
        if not alerts:
            return Reply(
                text=(
                    _("No {severity} alerts firing.").format(severity=severity) if severity else _("No alerts firing.")
                ),
                kind="info",
            )
        now = self.clock()

        def key(a):
            sev = str(a.get("labels", {}).get("severity", "")).lower()
            return (a.get("state") != "firing", SEVERITY_ORDER.get(sev, 9), _parse_rfc3339(a.get("activeAt")) or now)

        alerts.sort(key=key)
        rows = []
        for a in alerts[:MAX_ALERT_ROWS]:
            labels, ann = a.get("labels", {}), a.get("annotations", {})
            name = labels.get("alertname", "?")
            if labels.get(self.host_label):
                name += f" ({labels[self.host_label]})"
            since = _parse_rfc3339(a.get("activeAt"))
            rows.append(
                [
                    name,
                    labels.get("severity", ""),
                    a.get("state", ""),
                    f"{_ago(now - since)} ({_utc(since)})" if since else "",
                    (ann.get("summary") or ann.get("description") or "")[:200],
                ]
            )
        firing = sum(a.get("state") == "firing" for a in alerts)
        pending = len(alerts) - firing
        by_sev: dict[str, int] = {}
        for a in alerts:
            if a.get("state") == "firing":
                s = a.get("labels", {}).get("severity", "unlabelled")
                by_sev[s] = by_sev.get(s, 0) + 1
        text = (
            ngettext("{count} {severity} alert firing", "{count} {severity} alerts firing", firing).format(
                count=firing, severity=severity
            )
            if severity
            else ngettext("{count} alert firing", "{count} alerts firing", firing).format(count=firing)
        )
        if pending:
            text += _(", {count} pending").format(count=pending)
        if not severity and by_sev:
            text += (
                " ("
                + ", ".join(f"{n} {s}" for s, n in sorted(by_sev.items(), key=lambda x: SEVERITY_ORDER.get(x[0], 9)))
                + ")"
            )
        text += _(".")
        title = what[:1].upper() + what[1:]
        if len(alerts) > MAX_ALERT_ROWS:
            title += " " + _("(first {count} of {total})").format(count=MAX_ALERT_ROWS, total=len(alerts))
        table = Table(columns=[_("name"), _("severity"), _("state"), _("since"), _("summary")], rows=rows, title=title)
        return Reply(text=text, tables=[table])

    # -------------------------------------------------------------------------------------------- targets

    def _targets(self, action: Action, ctx: ExecutionContext) -> Reply:
        active = self.client.targets()
        label = self.host_label
        hosts = [t.name for t in action.targets]
        if hosts:
            active = [t for t in active if t.get("labels", {}).get(label) in hosts]
        now = self.clock()

        def tname(t):
            lab = t.get("labels", {})
            job = lab.get("job") or t.get("scrapePool", "?")
            svc = lab.get("service")
            return f"{job} ({svc})" if svc and svc != job else job

        def err(t):
            e = (t.get("lastError") or "").strip()
            return e.rsplit(": ", 1)[-1] if e else (_("not scraped yet") if t.get("health") == "unknown" else "")

        rows = []
        for t in sorted(active, key=lambda t: (t.get("labels", {}).get(label, ""), tname(t))):
            scraped = _parse_rfc3339(t.get("lastScrape"))
            rows.append(
                [
                    t.get("labels", {}).get(label, ""),
                    tname(t),
                    t.get("labels", {}).get("instance", ""),
                    t.get("health", ""),
                    _ago(now - scraped) if scraped else _("never"),
                    err(t),
                ]
            )
        table = Table(
            columns=[label, _("target"), _("instance"), _("health"), _("last scrape"), _("error")],
            rows=rows[:100],
            title=_("Scrape targets"),
        )
        if hosts:
            lines = []
            for h in hosts:
                mine = [t for t in active if t.get("labels", {}).get(label) == h]
                if not mine:
                    lines.append(
                        _("{host}: no scrape target has {matcher}, so Prometheus does not watch it.").format(
                            host=h, matcher=f'{label}="{h}"'
                        )
                    )
                    continue
                up = [t for t in mine if t.get("health") == "up"]
                down = [t for t in mine if t.get("health") != "up"]
                downs = "; ".join(_("{target} is down ({error})").format(target=tname(t), error=err(t)) for t in down)
                ups = ", ".join(sorted(tname(t) for t in up))
                if not down:
                    lines.append(
                        ngettext(
                            "{host} is up ({count} target: {targets}).",
                            "{host} is up ({count} targets: {targets}).",
                            len(mine),
                        ).format(host=h, count=len(mine), targets=ups)
                    )
                elif not up:
                    lines.append(_("{host} is down: {down}.").format(host=h, down=downs))
                else:
                    lines.append(
                        ngettext(
                            "{host} is partly down: {down}; {up} is up.",
                            "{host} is partly down: {down}; {up} are up.",
                            len(up),
                        ).format(host=h, down=downs, up=ups)
                    )
            return Reply(text="\n".join(lines), tables=[table] if rows else [], kind="result" if rows else "info")
        if not active:
            return Reply(text=_("Prometheus has no active scrape targets."), kind="info")
        down = [t for t in active if t.get("health") != "up"]
        if not down:
            text = (
                _("All {count} targets are up.").format(count=len(active))
                if len(active) > 1
                else _("The only target is up.")
            )
        else:
            text = ngettext(
                "{down} of {count} target down: {list}.", "{down} of {count} targets down: {list}.", len(active)
            ).format(
                down=len(down),
                count=len(active),
                list="; ".join(f"{t.get('labels', {}).get(label, '?')} {tname(t)} ({err(t)})" for t in down[:10])
                + (" …" if len(down) > 10 else ""),
            )
        return Reply(text=text, tables=[table])

    # -------------------------------------------------------------------------------------------- forecast

    def _forecast(self, action: Action, ctx: ExecutionContext) -> Reply:
        metric = action.params.get("metric")
        queries = action.fields.get("queries") or {}
        deployment = action.params.get("deployment")
        per_deployment = metric == "requests" and bool(deployment) and "deployment_requests" in queries
        query = queries.get("deployment_requests" if per_deployment else metric)
        if not query:
            return Reply.error(
                _("Rule {rule} has no forecast query for {metric}.").format(rule=action.rule_id, metric=repr(metric))
            )
        threshold = (action.fields.get("thresholds") or {}).get(metric)
        unit = (action.fields.get("units") or {}).get(metric)
        horizon = int(action.params.get("horizon_seconds") or 7 * 86400)
        horizon_text = span_text(horizon)
        lookback = min(max(horizon, 3600), FORECAST_MAX_LOOKBACK, self.max_range)
        step = choose_step(lookback, self.max_points)  # what _fetch asks for: the forecast needs MIN_POINTS of them
        ctx.progress(_("Fitting {metric} over the last {window}…").format(metric=metric, window=span_text(lookback)))
        series, now = self._fetch(query, lookback)
        dep_label = action.fields.get("deployment_label", "model_name")
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
                        window=span_text(lookback),
                        matcher=f'{dep_label}="{deployment}"',
                    ),
                    kind="info",
                )
            source = _("the service's /metrics") if metric == "requests" else "node_exporter"
            return Reply(
                text=self._no_data(hosts, span_text(lookback), _("{metric} data").format(metric=metric), source),
                kind="info",
            )
        names = series_names([s.labels for s in series], dep_label if per_deployment else self.host_label)
        if deployment and not per_deployment:
            names = [f"{n} ({deployment})" for n in names]
        results = [(n, s, fc.outlook(s.times, s.values, now, horizon, threshold)) for n, s in zip(names, series)]

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
        sentences = [
            self._forecast_sentence(metric, n, s, o, threshold, unit, horizon_text, step) for n, s, o in results
        ]
        rows = []
        for n, s, o in results[:MAX_ROWS]:
            if o is None:
                rows.append([n, format_value(s.last, unit), "—", "—", _("not enough history")])
                continue
            crosses = (
                _("already")
                if o.already
                else f"{fc.human_span(o.crosses_in)} ({_utc(o.crosses_at)})"
                if o.crosses_at is not None
                else _("not within {horizon}").format(horizon=horizon_text)
                if threshold is not None
                else "—"
            )
            rows.append(
                [
                    n,
                    format_value(o.last, unit),
                    _("{trend}/day").format(trend=_signed(o.per_day, unit)),
                    format_value(o.at_horizon, unit),
                    crosses,
                ]
            )
        label_col = dep_label if per_deployment else self.host_label
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
        png = _render(
            Chart(title=heading, unit=unit, lines=lines, threshold=threshold, now=now, x_range=(start, now + horizon))
        )
        return Reply(
            text=text,
            tables=[table],
            images=[Image(title=heading, png=png, filename=_filename("forecast", metric, *names[:3]))],
        )

    def _forecast_sentence(
        self,
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
                step=span_text(step),
                horizon=horizon_text,
                needed=span_text(fc.history_needed(step)),
                have=span_text(have) if have >= 1 else _("none yet"),
            )
        thr = format_value(threshold, unit) if threshold is not None else None
        full = threshold is not None and unit == "percent" and threshold >= 100
        note = ""
        if o.history_span < o.horizon / 4:
            note = " " + _("(based on only {span} of history)").format(span=fc.human_span(o.history_span).lstrip("~"))
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
                span=fc.human_span(o.crosses_in),
                time=_utc(o.crosses_at),
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
                trend=_signed(o.per_day, unit),
                note=note,
            )
        return _("{metric} on {name}: now {value}, trend {trend}/day, ~{expected} expected in {horizon}{note}.").format(
            metric=metric,
            name=name,
            value=now_value,
            trend=_signed(o.per_day, unit),
            expected=format_value(max(o.at_horizon, 0.0), unit),
            horizon=horizon_text,
            note=note,
        )

    # -------------------------------------------------------------------------------------------- llm_status

    def _llm_status(self, action: Action, ctx: ExecutionContext) -> Reply:
        queries = {**DEFAULT_LLM_QUERIES, **(action.fields.get("queries") or {})}
        dep_label = action.fields.get("deployment_label", "model_name")
        if not LABEL_NAME.match(dep_label):
            return Reply.error(
                _("Rule {rule}: deployment_label {label} is not a label name.").format(
                    rule=action.rule_id, label=repr(dep_label)
                )
            )
        wanted = action.params.get("deployment")
        inventory = self.config.inventory.deployments
        values: dict[str, dict[str, float]] = {}
        for key, q in queries.items():
            result = self.client.instant(q)
            for s in (_series(r) for r in (result or []) if isinstance(r, dict)):
                name = s.labels.get(dep_label)
                if name is not None and s.last is not None:
                    values.setdefault(name, {})[key] = s.last
        up_by: dict[tuple[str, str], float] = {}
        for r in self.client.instant(f"max by ({self.host_label}, service) (up)") or []:
            if isinstance(r, dict):
                s = _series(r)
                up_by[(s.labels.get(self.host_label, ""), s.labels.get("service", ""))] = s.last
        names = [wanted] if wanted else (list(inventory) or sorted(values))
        if not names:
            return Reply(text=_("No LLM deployments in the inventory, and no vLLM metrics in Prometheus."), kind="info")
        rows, sentences, states = [], [], {}
        for name in names:
            dep = inventory.get(name)
            v = values.get(name, {})
            up = up_by.get((dep.host, dep.service)) if dep else None
            if up is not None:
                state = "up" if up >= 1 else "down"
            else:
                state = "up" if v else "no data"
            states[name] = state
            where = dep.host if dep else None
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
                    dep.host if dep else "",
                    shown_state,
                    cells["rps"],
                    cells["running"],
                    cells["waiting"],
                    cells["p95"],
                    cells["success"],
                    cells["gpu_cache"],
                ]
            )
            who = _("{name} on {host}").format(name=name, host=where) if where else name
            if state == "down":
                sentences.append(
                    _("{who} is DOWN: its {service} target is failing scrapes.").format(who=who, service=dep.service)
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
        return Reply(text=text, tables=[table])


def _signed(value: float, unit: str | None) -> str:
    return ("+" if value >= 0 else "-") + format_value(abs(value), unit)


def _render(chart: Chart) -> bytes:
    from opsbot.executors.charts import render_png  # matplotlib is loaded only when a chart is drawn

    return render_png(chart)
