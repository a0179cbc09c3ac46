"""Alertmanager's API v2 from chat: silence alerts (the thread's alert group, or an alertname / host /
service named in words) for a while, expire a silence, list the active ones; and "I'm on it" (ack),
which is the bot's own record on the alert group, shown on its message.

The matchers come from the alert group's labels as stored (exact matches) or from validated params,
never from text a person typed as a matcher expression."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from opsbot.config import Config
from opsbot.core.action import Action, AlertGroups, ExecutionContext
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import AlertmanagerFields, BadFields, read_fields
from opsbot.i18n import _

MAX_SHOWN = 30  # silences listed


class AlertmanagerError(Exception):
    """Alertmanager could not be reached or refused the call; the message is one sentence."""


class AlertmanagerExecutor:
    name = "alertmanager"

    def __init__(self, config: Config):
        self.config = config

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        try:
            op = read_fields(AlertmanagerFields, action).op
        except BadFields as e:
            return Reply.error(str(e))
        try:
            if op == "ack":
                return self._ack(action.params, ctx.user, ctx.alert_groups)
            if not self.config.alertmanager.url:
                return Reply.error(
                    _("No Alertmanager is configured (alertmanager.url), so I cannot do that. Nothing was run.")
                )
            if op == "silence":
                return self._silence(action.params, ctx.user, ctx.alert_groups)
            if op == "expire":
                return self._expire(action.params, ctx.alert_groups)
            return self._list()
        except AlertmanagerError as e:
            return Reply.error(str(e))

    # ---- HTTP --------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{str(self.config.alertmanager.url).rstrip('/')}{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.config.alertmanager.timeout) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace").strip()[:200]
            raise AlertmanagerError(
                _("Alertmanager refused it ({status}: {detail}). Nothing was changed.").format(
                    status=e.code, detail=detail
                )
            ) from None
        except (OSError, ValueError) as e:
            raise AlertmanagerError(
                _("Alertmanager at {url} is not answering ({error}); is it running?").format(
                    url=self.config.alertmanager.url, error=type(e).__name__
                )
            ) from None
        return json.loads(text) if text.strip() else None

    # ---- what each op does ---------------------------------------------------------------------------

    def _group(self, params: dict[str, Any], groups: AlertGroups | None) -> Any:
        key = params.get("alert")
        if not key:
            return None
        group = groups.alert_group(key) if groups is not None else None
        if group is None:
            raise AlertmanagerError(_("I know nothing about that alert any more. Nothing was changed."))
        return group

    def _matchers(self, params: dict[str, Any], groups: AlertGroups | None) -> list[dict[str, Any]]:
        group = self._group(params, groups)
        if group is not None:
            labels = group.labels or {}
            return [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items())]
        wanted = {
            "alertname": params.get("alertname"),
            self.config.prometheus.host_label: params.get("host"),
            "service": params.get("service"),
        }
        return [{"name": k, "value": str(v), "isRegex": False, "isEqual": True} for k, v in wanted.items() if v]

    def _silence(self, params: dict[str, Any], user: str, groups: AlertGroups | None) -> Reply:
        matchers = self._matchers(params, groups)
        if not matchers:
            return Reply.error(
                _(
                    "Say what to silence: ask in an alert's thread, or name an alert, a host or a service. "
                    "Nothing was silenced."
                )
            )
        seconds = int(params.get("duration_seconds") or 0) or _seconds(params.get("duration"))
        now = datetime.now(UTC)
        ends = now + timedelta(seconds=seconds)
        comment = params.get("comment") or _("silenced from chat by {user}").format(user=user or "opsbot")
        answer = self._call(
            "POST",
            "/api/v2/silences",
            {
                "matchers": matchers,
                "startsAt": now.isoformat(),
                "endsAt": ends.isoformat(),
                "createdBy": user or "opsbot",
                "comment": comment,
            },
        )
        silence_id = str((answer or {}).get("silenceID", ""))
        shown = ", ".join(f"{m['name']}={m['value']}" for m in matchers)
        return Reply(
            text=_("Silenced {matchers} until {time} UTC (silence {id}; to end it: unsilence '{id}').").format(
                matchers=shown, time=f"{ends:%H:%M}", id=silence_id[:8]
            )
        )

    def _active(self) -> list[dict[str, Any]]:
        found = self._call("GET", "/api/v2/silences") or []
        return [s for s in found if (s.get("status") or {}).get("state") == "active"]

    def _expire(self, params: dict[str, Any], groups: AlertGroups | None) -> Reply:
        active = self._active()
        ref = str(params.get("silence") or "").lower()
        if ref:
            chosen = [s for s in active if str(s.get("id", "")).lower().startswith(ref)]
        else:
            wanted = {(m["name"], m["value"]) for m in self._matchers(params, groups)}
            if not wanted:
                return Reply.error(
                    _("Say which silence to end: its id (see alerts.silences), or ask in the alert's thread.")
                )
            chosen = [s for s in active if {(m["name"], m["value"]) for m in s.get("matchers", [])} == wanted]
        if not chosen:
            return Reply.error(_("No active silence matches that. Nothing was changed."))
        if len(chosen) > 1 and ref:
            return Reply.error(
                _("{n} active silences start with {ref}; give more of the id.").format(n=len(chosen), ref=ref)
            )
        for s in chosen:
            self._call("DELETE", f"/api/v2/silence/{s['id']}")
        return Reply(
            text=_("Ended the silence {ids}; its alerts notify again.").format(
                ids=", ".join(str(s["id"])[:8] for s in chosen)
            )
        )

    def _list(self) -> Reply:
        active = sorted(self._active(), key=lambda s: str(s.get("endsAt")))
        if not active:
            return Reply(text=_("No silences are active."), kind="info")
        rows = [
            [
                str(s.get("id", ""))[:8],
                ", ".join(f"{m.get('name')}={m.get('value')}" for m in s.get("matchers", []))[:120],
                str(s.get("endsAt", ""))[:16].replace("T", " "),
                str(s.get("createdBy", ""))[:40],
                str(s.get("comment", ""))[:80],
            ]
            for s in active[:MAX_SHOWN]
        ]
        columns = [_("silence"), _("matchers"), _("until (UTC)"), _("by"), _("comment")]
        return Reply(text=_("{n} active silence(s).").format(n=len(active)), tables=[Table(columns=columns, rows=rows)])

    def _ack(self, params: dict[str, Any], user: str, groups: AlertGroups | None) -> Reply:
        group = self._group(params, groups)
        if group is None or groups is None:
            return Reply.error(_("Ack in an alert's thread (or with its button): which alert is yours?"))
        groups.ack_alert_group(group.key, user or "opsbot", datetime.now(UTC))
        return Reply(text=_("Noted: {user} is on {name}.").format(user=user or "opsbot", name=group.name))


def _seconds(duration: Any) -> int:
    from opsbot.core.durations import parse_duration

    return parse_duration(str(duration or "1h"))
