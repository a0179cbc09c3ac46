"""One JSON-over-HTTP call with a timeout, and the one-sentence error when the engine does not answer."""

from __future__ import annotations

from typing import Any

import requests

from opsbot.i18n import _


class EngineError(Exception):
    """The engine refused or failed a call; the message is one sentence for the user. `status` and
    `code` (MLflow's error_code) tell what kind of refusal it was."""

    def __init__(self, message: str, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


class EngineUnreachable(EngineError):
    """The engine did not answer (down, wrong address, or slower than the timeout)."""


def call(
    session: requests.Session,
    method: str,
    url: str,
    what: str,
    timeout: float,
    params: dict[str, Any] | None = None,
    json: Any = None,
) -> Any:
    """The JSON answer of `method url`; EngineUnreachable or EngineError (naming `what`) otherwise."""
    try:
        r = session.request(method, url, params=params, json=json, timeout=timeout)
    except requests.Timeout:
        raise EngineUnreachable(
            _("{what} did not answer within {seconds}s ({url}).").format(what=what, seconds=f"{timeout:g}", url=url)
        ) from None
    except requests.RequestException as e:
        reason = type(e).__name__
        raise EngineUnreachable(
            _("{what} is unreachable at {url} ({reason}).").format(what=what, url=url, reason=reason)
        ) from None
    if r.status_code >= 400:
        detail, code = "", ""
        try:
            body = r.json()
            if isinstance(body, dict):
                detail = str(body.get("message") or body.get("detail") or body.get("error_code") or "")[:300]
                code = str(body.get("error_code") or "")
        except ValueError:
            detail = r.text[:300]
        raise EngineError(
            _("{what} answered {status} to {method} {url}: {detail}").format(
                what=what, status=r.status_code, method=method, url=url, detail=detail or r.reason
            ),
            r.status_code,
            code,
        )
    if not r.content:
        return {}
    try:
        return r.json()
    except ValueError:
        raise EngineError(
            _("{what} answered {method} {url} with something that is not JSON.").format(
                what=what, method=method, url=url
            )
        ) from None
