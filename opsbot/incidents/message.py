"""An alert group as a front-end neutral Reply: the one message a group gets (updated as alerts join
and resolve), and the summary a storm of groups gets instead."""

from __future__ import annotations

from datetime import datetime

from opsbot.core.durations import human_span
from opsbot.core.reply import Button, Reply
from opsbot.i18n import _, ngettext
from opsbot.store.alert_groups import AlertGroupRecord

MAX_LINES = 10  # alerts listed in one message; the rest are counted
MAX_VALUE = 120  # characters of a label or annotation shown (values may be hostile or huge)


def short(text: str, limit: int = MAX_VALUE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_line(alert: dict) -> str:
    labels = alert.get("labels") or {}
    annotations = alert.get("annotations") or {}
    what = annotations.get("summary") or annotations.get("description")
    if not what:
        shown = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
        what = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())[:5])
    mark = "✅" if alert.get("status") == "resolved" else "🔥"
    return f"{mark} {short(what)}"


def group_reply(group: AlertGroupRecord, suggestions: list[str], now: datetime) -> Reply:
    """The alert message: what fires, how many, since when; buttons while it fires."""
    alerts = list(group.alerts.values())
    firing = [a for a in alerts if a.get("status") == "firing"]
    severity = group.labels.get("severity")
    sev = f" ({short(severity, 20)})" if severity else ""
    if group.status == "resolved":
        span = (group.resolved_at or now) - group.first_at
        head = "✅ " + _("*{name}* resolved after {span}").format(
            name=short(group.name, 80), span=human_span(span.total_seconds())
        )
    else:
        head = "🚨 " + ngettext(
            "*{name}*{severity}: {n} alert firing", "*{name}*{severity}: {n} alerts firing", len(firing)
        ).format(name=short(group.name, 80), severity=sev, n=len(firing))
    lines = [alert_line(a) for a in alerts[:MAX_LINES]]
    if len(alerts) > MAX_LINES:
        lines.append(_("… and {n} more").format(n=len(alerts) - MAX_LINES))
    if group.acked_by:
        lines.append("👀 " + _("{user} is on it").format(user=group.acked_by))
    buttons: list[Button] = []
    if group.status == "firing":
        buttons = [
            Button(label=_("Silence 1h"), action="alert_silence", value=group.key),
            Button(label=_("Ack"), action="alert_ack", value=group.key, style="primary"),
            *(
                Button(label=label, action="alert_suggest", value=f"{group.key}:{i}")
                for i, label in enumerate(suggestions)
            ),
        ]
    return Reply(text="\n".join([head, *lines]), kind="info", buttons=buttons)


def storm_reply(counts: dict[str, dict[str, int]]) -> Reply:
    """One message for many groups: per alert name, how many fire and how many resolved."""
    total = sum(c["firing"] + c["resolved"] for c in counts.values())
    head = "🌪️ " + ngettext(
        "Alert storm: {n} alert group arrived within a minute; they are summed up here instead of one message each.",
        "Alert storm: {n} alert groups arrived within a minute; they are summed up here instead of one message each.",
        total,
    ).format(n=total)
    rows = sorted(counts.items(), key=lambda kv: -(kv[1]["firing"] + kv[1]["resolved"]))
    lines = [
        _("*{name}*: {firing} firing, {resolved} resolved").format(
            name=short(name, 80), firing=c["firing"], resolved=c["resolved"]
        )
        for name, c in rows[:20]
    ]
    if len(rows) > 20:
        lines.append(_("… and {n} more").format(n=len(rows) - 20))
    return Reply(text="\n".join([head, *lines]), kind="info")
