"""`kind: alerts` — what is firing (and pending), most severe first, optionally of one severity."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import ago
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.formatting import parse_rfc3339, utc
from opsbot.i18n import _, ngettext

MAX_ALERT_ROWS = 30
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    severity = action.params.get("severity")
    alerts = [a for a in b.client.alerts() if a.get("state") in ("firing", "pending")]
    if severity:
        alerts = [a for a in alerts if str(a.get("labels", {}).get("severity", "")).lower() == severity.lower()]
    what = _("{severity} alerts").format(severity=severity) if severity else _("alerts")
    if not alerts:
        return Reply(
            text=_("No {severity} alerts firing.").format(severity=severity) if severity else _("No alerts firing."),
            kind="info",
        )
    now = b.clock()

    def key(a):
        sev = str(a.get("labels", {}).get("severity", "")).lower()
        return (a.get("state") != "firing", SEVERITY_ORDER.get(sev, 9), parse_rfc3339(a.get("activeAt")) or now)

    alerts.sort(key=key)
    try:
        acks = ctx.acks()  # taken with alerts.ack ("I'm on it")
    except Exception:
        acks = {}
    rows = []
    for a in alerts[:MAX_ALERT_ROWS]:
        labels, ann = a.get("labels", {}), a.get("annotations", {})
        name = labels.get("alertname", "?")
        if labels.get(b.host_label):
            name += f" ({labels[b.host_label]})"
        taker = acks.get((labels.get("alertname", ""), labels.get(b.host_label, "")))
        if taker:
            name += " 👀 " + _("{user} is on it").format(user=taker)
        since = parse_rfc3339(a.get("activeAt"))
        rows.append(
            [
                name,
                labels.get("severity", ""),
                a.get("state", ""),
                f"{ago(now - since)} ({utc(since)})" if since else "",
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
