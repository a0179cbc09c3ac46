"""Prometheus' read-only HTTP API through prometheus-api-client: a timeout on every call, no retries
of HTTP statuses, and every failure turned into one sentence (PromError)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from opsbot.executors.prometheus.series import Series, series_from
from opsbot.i18n import _


class PromError(Exception):
    """Something the user should read: one sentence."""


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
                datetime.fromtimestamp(start, tz=UTC),
                datetime.fromtimestamp(end, tz=UTC),
                str(step),
                params=self._server_timeout,
            )
        )
        return [series_from(r) for r in result or []]

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
