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
from opsbot.core.durations import ago, format_duration, human_span, parse_duration, to_seconds
from opsbot.executors import forecast as fc
from opsbot.core.action import Action, ExecutionContext
from opsbot.executors.charts import MAX_LINES, Chart, Line, format_value
from opsbot.core.reply import Image, Reply, Table

MAX_PROMQL = 1000                 # characters in a user's query
MAX_ROWS = 20                     # table rows for a query or a summary
MAX_ALERT_ROWS = 30
MAX_SUBQUERY_STEPS = 11000        # like query_range's own limit on points per series
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
        retry = Retry(total=None, connect=2, read=False, status=0, other=0, redirect=2, backoff_factor=0.1,
                      raise_on_status=False)
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
        result = self._call(lambda: self.api.custom_query_range(
            query, datetime.fromtimestamp(start, tz=timezone.utc), datetime.fromtimestamp(end, tz=timezone.utc),
            str(step), params=self._server_timeout))
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
            raise PromError(f"Prometheus at {self.url} is not answering; is it running?") from None
        except requests.exceptions.RequestException as e:
            raise PromError(f"I could not ask Prometheus at {self.url}: {type(e).__name__}.") from None
        except (ValueError, KeyError, TypeError):
            raise PromError(f"Prometheus at {self.url} sent an answer I cannot read; "
                            "is prometheus.url really a Prometheus server?") from None

    @property
    def _limit(self) -> str:
        return f"{self.timeout:g}s" if self.timeout >= 1 else f"{self.timeout * 1000:g}ms"

    def _slow(self) -> str:
        return (f"Prometheus at {self.url} did not answer within {self._limit}; "
                "try a shorter window or a simpler query.")

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
            return f"Prometheus rejected the query: {brief or 'bad request'}."
        if error_type == "execution" or code == 422:
            return f"Prometheus could not execute the query: {brief or 'execution error'}."
        if error_type == "timeout":
            return (f"The query ran longer than the {self._limit} allowed (prometheus.timeout) and "
                    "Prometheus stopped it; try a shorter window or a simpler query.")
        if code in (401, 403):
            return f"Prometheus at {self.url} refused the request (HTTP {code}); check its credentials."
        if code == 404:
            return f"{self.url} has no Prometheus API there (HTTP 404); is prometheus.url right?"
        if code == 503 or error_type in ("unavailable", "canceled"):
            return f"Prometheus at {self.url} is not ready ({brief or 'HTTP 503'}); try again in a moment."
        return f"Prometheus at {self.url} answered HTTP {code or '?'}{': ' + brief if brief else ''}."


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
    return Series(labels=dict(item.get("metric") or {}), times=[float(t) for t, _ in pts],
                  values=[_num(v) for _, v in pts])


# ------------------------------------------------------------------------------------------------ helpers

def choose_step(window: float, max_points: int) -> int:
    """The smallest round step that keeps a range query at or under `max_points` points per series."""
    need = window / max(max_points - 1, 1)
    for s in NICE_STEPS:
        if s >= need:
            return s
    return math.ceil(need)



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



def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")



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


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
            "range": self._range, "query": self._query, "alerts": self._alerts, "targets": self._targets,
            "forecast": self._forecast, "llm_status": self._llm_status}

    def close(self) -> None:
        self.client.close()

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        kind = action.fields.get("kind")
        handler = self.kinds.get(kind)
        if handler is None:
            return Reply.error(f"Rule {action.rule_id} asks Prometheus for kind {kind!r}, which I don't know "
                               f"(known: {', '.join(self.kinds)}).")
        if not LABEL_NAME.match(self.host_label):
            return Reply.error(f"prometheus.host_label {self.host_label!r} is not a Prometheus label name.")
        try:
            return handler(action, ctx)
        except PromError as e:
            return Reply.error(str(e))

    # -------------------------------------------------------------------------------------------- range

    def _window(self, action: Action, default: int | None = DEFAULT_WINDOW) -> int | None:
        window = action.params.get("window_seconds") or default
        if window is not None and window > self.max_range:
            raise PromError(f"A {format_duration(window)} window is longer than the "
                            f"{format_duration(self.max_range)} Prometheus queries may cover here "
                            "(prometheus.max_range).")
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
            return Reply.error(f"Rule {action.rule_id} has no `query` for Prometheus.")
        window = self._window(action)
        series, now = self._fetch(query, window)
        hosts = [t.name for t in action.targets]
        window_text = format_duration(window)
        if not any(s.finite() for s in series):
            return Reply(text=self._no_data(hosts, window_text), kind="info")
        reply = self._chart_reply(series, title=action.fields.get("title") or action.intent,
                                  unit=action.fields.get("unit"), window_text=window_text,
                                  name_prefix=action.intent, x_range=(now - window, now))
        seen = {s.labels.get(self.host_label) for s in series if s.finite()}
        missing = [h for h in hosts if h not in seen]
        if missing:
            reply.text += " " + self._no_data(missing, window_text).replace("no data", "No data", 1)
        return reply

    def _no_data(self, hosts: list[str], window_text: str, what: str = "data", source: str = "node_exporter") -> str:
        label = self.host_label
        if not hosts:
            return f"no {what} for any host in the last {window_text} — is {source} scraped with a {label} label?"
        if len(hosts) == 1:
            return f'no {what} for {hosts[0]} in the last {window_text} — is {source} scraped with {label}="{hosts[0]}"?'
        return (f"no {what} for {', '.join(hosts)} in the last {window_text} — is {source} scraped with a "
                f"{label} label naming each host?")

    def _chart_reply(self, series: list[Series], title: str, unit: str | None, window_text: str,
                     name_prefix: str, x_range: tuple[float, float] | None = None) -> Reply:
        series = [s for s in series if s.finite()]
        names = series_names([s.labels for s in series], self.host_label)
        stats = []
        for name, s in zip(names, series):
            vals = s.finite()
            stats.append((name, s, min(vals), sum(vals) / len(vals), max(vals), vals[-1]))
        stats.sort(key=lambda r: -r[5])
        shown = stats[:MAX_LINES]
        png = _render(Chart(title=f"{title}, last {window_text}", unit=unit, x_range=x_range,
                            lines=[Line(label=n, times=s.times, values=s.values) for n, s, *_ in shown]))
        col = self.host_label if all(self.host_label in s.labels for s in series) else "series"
        table = Table(columns=[col, "min", "avg", "max", "last"],
                      rows=[[n, *(format_value(v, unit) for v in (lo, avg, hi, last))]
                            for n, _, lo, avg, hi, last in stats[:MAX_ROWS]],
                      title=f"{title}, last {window_text}")
        if len(stats) == 1:
            n, _, lo, avg, hi, last = stats[0]
            text = (f"{title} on {n}, last {window_text}: now {format_value(last, unit)} "
                    f"(min {format_value(lo, unit)}, avg {format_value(avg, unit)}, max {format_value(hi, unit)}).")
        else:
            top, low = stats[0], stats[-1]
            text = (f"{title}, last {window_text}, {len(stats)} series: highest now {top[0]} at "
                    f"{format_value(top[5], unit)}, lowest {low[0]} at {format_value(low[5], unit)}.")
        if len(stats) > MAX_LINES:
            text += f" The chart shows the top {MAX_LINES}."
        if len(stats) > MAX_ROWS:
            table.title += f" (top {MAX_ROWS} of {len(stats)})"
        return Reply(text=text, tables=[table],
                     images=[Image(title=f"{title}, last {window_text}", png=png,
                                   filename=_filename(name_prefix, *(n for n, *_ in shown[:3])))])

    # -------------------------------------------------------------------------------------------- query

    def check_promql(self, query: str) -> None:
        """User PromQL: one line, bounded length, bounded look-back. Raises PromError."""
        if not query or not query.strip():
            raise PromError("The PromQL query is empty.")
        if len(query) > MAX_PROMQL:
            raise PromError(f"That PromQL is {len(query)} characters; the limit is {MAX_PROMQL}.")
        if CONTROL.search(query):
            raise PromError("PromQL must be one line without control characters.")
        limit = format_duration(self.max_range)
        for inner in re.findall(r"\[([^\]]*)\]", query):
            rng, _, res = inner.partition(":")
            try:
                seconds = to_seconds(rng)
            except ValueError:
                continue                        # Prometheus will say what is wrong with it
            if seconds > self.max_range:
                raise PromError(f"The query looks back {rng.strip()}, more than the {limit} allowed here "
                                "(prometheus.max_range).")
            if res.strip():
                try:
                    step = to_seconds(res)
                except ValueError:
                    continue
                if step > 0 and seconds / step > MAX_SUBQUERY_STEPS:
                    raise PromError(f"The subquery [{inner.strip()}] would evaluate {seconds / step:.0f} steps; "
                                    f"use a resolution of at least {format_duration(math.ceil(seconds / MAX_SUBQUERY_STEPS))}.")
        for off in re.findall(r"\boffset\s+-?([0-9a-z]+)", query, re.I):
            try:
                if to_seconds(off) > self.max_range:
                    raise PromError(f"The query reaches back {off} with offset, more than the {limit} allowed here "
                                    "(prometheus.max_range).")
            except ValueError:
                continue

    def _query(self, action: Action, ctx: ExecutionContext) -> Reply:
        query = str(action.fields.get("query") or action.params.get("promql") or "").strip()
        self.check_promql(query)
        window = self._window(action, default=None)
        short = query if len(query) <= 60 else query[:59] + "…"
        if window:
            series, now = self._fetch(query, window)
            window_text = format_duration(window)
            if not any(s.finite() for s in series):
                return Reply(text=f"`{short}` returned no data in the last {window_text}.", kind="info")
            return self._chart_reply(series, title=action.fields.get("title") or short,
                                     unit=action.fields.get("unit"), window_text=window_text, name_prefix="promql",
                                     x_range=(now - window, now))
        result = self.client.instant(query)
        unit = action.fields.get("unit")
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            value = result[1]                 # scalar or string
            shown = format_value(_num(value), unit) if not math.isnan(_num(value)) else str(value)
            return Reply(text=f"`{short}` = {shown}", tables=[Table(columns=["value"], rows=[[shown]])])
        series = [_series(r) for r in result or []]
        if not series:
            return Reply(text=f"`{short}` returned no series.", kind="info")
        return Reply(text=f"`{short}` returned {len(series)} series"
                          + (f"; showing the top {MAX_ROWS} by value." if len(series) > MAX_ROWS else "."),
                     tables=[self._instant_table(series, unit)])

    def _instant_table(self, series: list[Series], unit: str | None) -> Table:
        series = sorted(series, key=lambda s: -(s.last if s.last is not None else -math.inf))
        keys = sorted({k for s in series for k in s.labels}, key=lambda k: (k != "__name__", k))
        common = {}
        if len(series) > 1:
            common = {k: series[0].labels.get(k) for k in keys
                      if k in series[0].labels and all(s.labels.get(k) == series[0].labels.get(k) for s in series)}
            keys = [k for k in keys if k not in common]
        matrix = any(len(s.values) > 1 for s in series)
        columns = [("metric" if k == "__name__" else k) for k in keys] + (["samples", "last"] if matrix else ["value"])
        rows = []
        for s in series[:MAX_ROWS]:
            row = [s.labels.get(k, "") for k in keys]
            row += ([str(len(s.values)), format_value(s.last, unit)] if matrix else [format_value(s.last, unit)])
            rows.append(row)
        title = None
        if common:
            title = "all rows: " + ", ".join(v if k == "__name__" else f'{k}="{v}"' for k, v in common.items())
        return Table(columns=columns, rows=rows, title=title)

    # -------------------------------------------------------------------------------------------- alerts

    def _alerts(self, action: Action, ctx: ExecutionContext) -> Reply:
        severity = action.params.get("severity")
        alerts = [a for a in self.client.alerts() if a.get("state") in ("firing", "pending")]
        if severity:
            alerts = [a for a in alerts if str(a.get("labels", {}).get("severity", "")).lower() == severity.lower()]
        what = f"{severity} alerts" if severity else "alerts"
        if not alerts:
            return Reply(text=f"No {what} firing.", kind="info")
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
            rows.append([name, labels.get("severity", ""), a.get("state", ""),
                         f"{ago(now - since)} ({_utc(since)})" if since else "",
                         (ann.get("summary") or ann.get("description") or "")[:200]])
        firing = sum(a.get("state") == "firing" for a in alerts)
        pending = len(alerts) - firing
        by_sev: dict[str, int] = {}
        for a in alerts:
            if a.get("state") == "firing":
                s = a.get("labels", {}).get("severity", "unlabelled")
                by_sev[s] = by_sev.get(s, 0) + 1
        text = f"{_count(firing, severity + ' alert' if severity else 'alert')} firing"
        if pending:
            text += f", {pending} pending"
        if not severity and by_sev:
            text += " (" + ", ".join(f"{n} {s}" for s, n in sorted(by_sev.items(),
                                                                   key=lambda x: SEVERITY_ORDER.get(x[0], 9))) + ")"
        text += "."
        table = Table(columns=["name", "severity", "state", "since", "summary"], rows=rows,
                      title=f"{what.capitalize()}" + (f" (first {MAX_ALERT_ROWS} of {len(alerts)})"
                                                      if len(alerts) > MAX_ALERT_ROWS else ""))
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
            return e.rsplit(": ", 1)[-1] if e else ("not scraped yet" if t.get("health") == "unknown" else "")

        rows = []
        for t in sorted(active, key=lambda t: (t.get("labels", {}).get(label, ""), tname(t))):
            scraped = _parse_rfc3339(t.get("lastScrape"))
            rows.append([t.get("labels", {}).get(label, ""), tname(t), t.get("labels", {}).get("instance", ""),
                         t.get("health", ""), ago(now - scraped) if scraped else "never", err(t)])
        table = Table(columns=[label, "target", "instance", "health", "last scrape", "error"], rows=rows[:100],
                      title="Scrape targets")
        if hosts:
            lines = []
            for h in hosts:
                mine = [t for t in active if t.get("labels", {}).get(label) == h]
                if not mine:
                    lines.append(f'{h}: no scrape target has {label}="{h}", so Prometheus does not watch it.')
                    continue
                up = [t for t in mine if t.get("health") == "up"]
                down = [t for t in mine if t.get("health") != "up"]
                if not down:
                    lines.append(f"{h} is up ({_count(len(mine), 'target')}: {', '.join(sorted(tname(t) for t in mine))}).")
                elif not up:
                    lines.append(f"{h} is down: " + "; ".join(f"{tname(t)} is down ({err(t)})" for t in down) + ".")
                else:
                    lines.append(f"{h} is partly down: " + "; ".join(f"{tname(t)} is down ({err(t)})" for t in down)
                                 + f"; {', '.join(sorted(tname(t) for t in up))} "
                                 + ("is" if len(up) == 1 else "are") + " up.")
            return Reply(text="\n".join(lines), tables=[table] if rows else [],
                         kind="result" if rows else "info")
        if not active:
            return Reply(text="Prometheus has no active scrape targets.", kind="info")
        down = [t for t in active if t.get("health") != "up"]
        if not down:
            text = f"All {_count(len(active), 'target')} are up." if len(active) > 1 else "The only target is up."
        else:
            text = (f"{len(down)} of {_count(len(active), 'target')} down: "
                    + "; ".join(f"{t.get('labels', {}).get(label, '?')} {tname(t)} ({err(t)})" for t in down[:10])
                    + (" …" if len(down) > 10 else "") + ".")
        return Reply(text=text, tables=[table])

    # -------------------------------------------------------------------------------------------- forecast

    def _forecast(self, action: Action, ctx: ExecutionContext) -> Reply:
        metric = action.params.get("metric")
        queries = action.fields.get("queries") or {}
        deployment = action.params.get("deployment")
        per_deployment = metric == "requests" and bool(deployment) and "deployment_requests" in queries
        query = queries.get("deployment_requests" if per_deployment else metric)
        if not query:
            return Reply.error(f"Rule {action.rule_id} has no forecast query for {metric!r}.")
        threshold = (action.fields.get("thresholds") or {}).get(metric)
        unit = (action.fields.get("units") or {}).get(metric)
        horizon = int(action.params.get("horizon_seconds") or 7 * 86400)
        horizon_text = format_duration(horizon)
        lookback = min(max(horizon, 3600), FORECAST_MAX_LOOKBACK, self.max_range)
        ctx.progress(f"Fitting {metric} over the last {format_duration(lookback)}…")
        series, now = self._fetch(query, lookback)
        dep_label = action.fields.get("deployment_label", "model_name")
        hosts = [t.name for t in action.targets]
        if per_deployment:
            series = [s for s in series if s.labels.get(dep_label) == deployment]
        series = [s for s in series if s.finite()]
        if not series:
            if per_deployment:
                return Reply(text=f'no {metric} data for {deployment} in the last {format_duration(lookback)} to '
                                  f'forecast from — are its metrics scraped with {dep_label}="{deployment}"?', kind="info")
            source = "the service's /metrics" if metric == "requests" else "node_exporter"
            return Reply(text=self._no_data(hosts, format_duration(lookback), f"{metric} data", source), kind="info")
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
        sentences = [self._forecast_sentence(metric, n, o, threshold, unit, horizon_text) for n, _, o in results]
        rows = []
        for n, s, o in results[:MAX_ROWS]:
            if o is None:
                rows.append([n, format_value(s.last, unit), "—", "—", "not enough history"])
                continue
            crosses = ("already" if o.already else
                       f"{human_span(o.crosses_in)} ({_utc(o.crosses_at)})" if o.crosses_at is not None else
                       f"not within {horizon_text}" if threshold is not None else "—")
            rows.append([n, format_value(o.last, unit), _signed(o.per_day, unit) + "/day",
                         format_value(o.at_horizon, unit), crosses])
        label_col = dep_label if per_deployment else self.host_label
        table = Table(columns=[label_col, "now", "trend", f"in {horizon_text}",
                               f"reaches {format_value(threshold, unit)}" if threshold is not None else "threshold"],
                      rows=rows, title=f"{metric} forecast, next {horizon_text}")
        lines = []
        for n, s, o in results[:MAX_LINES]:
            lines.append(Line(label=n, times=s.times, values=s.values))
            if o is not None:
                ts, vs = fc.projection(o)
                lines.append(Line(label=f"{n} (forecast)", times=ts, values=vs, dashed=True))
        text = sentences[0] if len(sentences) == 1 else "\n".join(sentences[:MAX_ROWS])
        if all(o is None for _, _, o in results):
            return Reply(text=text, tables=[table], kind="info")     # nothing to draw but a dot
        start = min(s.times[0] for _, s, _ in results[:MAX_LINES])
        png = _render(Chart(title=f"{metric} forecast, next {horizon_text}", unit=unit, lines=lines,
                            threshold=threshold, now=now, x_range=(start, now + horizon)))
        return Reply(text=text, tables=[table],
                     images=[Image(title=f"{metric} forecast, next {horizon_text}", png=png,
                                   filename=_filename("forecast", metric, *names[:3]))])

    def _forecast_sentence(self, metric: str, name: str, o: fc.Outlook | None, threshold: float | None,
                           unit: str | None, horizon_text: str) -> str:
        if o is None:
            return f"{metric} on {name}: not enough history to forecast yet (I need at least a minute of data)."
        thr = format_value(threshold, unit) if threshold is not None else None
        full = threshold is not None and unit == "percent" and threshold >= 100
        note = ""
        if o.history_span < o.horizon / 4:
            note = f" (based on only {human_span(o.history_span).lstrip('~')} of history)"
        if o.already:
            return f"{metric} on {name} is already {'full' if full else 'at ' + format_value(o.last, unit)} (threshold {thr})."
        if o.crosses_at is not None:
            what = "full" if full else f"reaches {thr}"
            return (f"{metric} on {name} {what} in {human_span(o.crosses_in)} (at {_utc(o.crosses_at)}); "
                    f"now {format_value(o.last, unit)}{note}.")
        if threshold is not None:
            return (f"{metric} on {name} is not expected to cross {thr} in the next {horizon_text}; "
                    f"now {format_value(o.last, unit)}, trend {_signed(o.per_day, unit)}/day{note}.")
        return (f"{metric} on {name}: now {format_value(o.last, unit)}, trend {_signed(o.per_day, unit)}/day, "
                f"~{format_value(max(o.at_horizon, 0.0), unit)} expected in {horizon_text}{note}.")

    # -------------------------------------------------------------------------------------------- llm_status

    def _llm_status(self, action: Action, ctx: ExecutionContext) -> Reply:
        queries = {**DEFAULT_LLM_QUERIES, **(action.fields.get("queries") or {})}
        dep_label = action.fields.get("deployment_label", "model_name")
        if not LABEL_NAME.match(dep_label):
            return Reply.error(f"Rule {action.rule_id}: deployment_label {dep_label!r} is not a label name.")
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
            return Reply(text="No LLM deployments in the inventory, and no vLLM metrics in Prometheus.", kind="info")
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
            where = f" on {dep.host}" if dep else ""
            cells = {"rps": format_value(v.get("rps"), "reqps"), "running": format_value(v.get("running")),
                     "waiting": format_value(v.get("waiting")), "p95": format_value(v.get("p95"), "seconds"),
                     "success": f"{100 * v['success']:.1f}%" if fc.is_finite(v.get("success")) else "—",
                     "gpu_cache": format_value(v.get("gpu_cache"), "percent")}
            rows.append([name, dep.host if dep else "", state, cells["rps"], cells["running"], cells["waiting"],
                         cells["p95"], cells["success"], cells["gpu_cache"]])
            if state == "down":
                sentences.append(f"{name}{where} is DOWN: its {dep.service} target is failing scrapes.")
            elif state == "no data":
                sentences.append(f"No metrics for {name}{where} — is its /metrics scraped, with "
                                 f'{dep_label}="{name}" on the series?')
            else:
                sentences.append(f"{name}{where} is up: {cells['rps']}, {cells['running']} running, "
                                 f"{cells['waiting']} waiting, p95 latency {cells['p95']}, "
                                 f"{cells['success']} success, GPU cache {cells['gpu_cache']}.")
        table = Table(columns=["deployment", "host", "up", "req/s", "running", "waiting", "p95 latency", "success",
                               "GPU cache"], rows=rows, title="LLM deployments")
        if len(names) == 1:
            text = sentences[0]
        else:
            counts = {s: sum(1 for x in states.values() if x == s) for s in ("up", "down", "no data")}
            text = (f"{len(names)} LLM deployments: {counts['up']} up, {counts['down']} down"
                    + (f", {counts['no data']} without data" if counts["no data"] else "") + ".\n" + "\n".join(sentences))
        return Reply(text=text, tables=[table])


def _signed(value: float, unit: str | None) -> str:
    return ("+" if value >= 0 else "-") + format_value(abs(value), unit)


def _render(chart: Chart) -> bytes:
    from opsbot.executors.charts import render_png     # matplotlib is loaded only when a chart is drawn
    return render_png(chart)
