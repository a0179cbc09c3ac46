"""`kind: targets` — scrape targets' health, per host when the request names hosts."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import ago
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.formatting import parse_rfc3339
from opsbot.i18n import _, ngettext


def answer(b: Backend, action: Action, fields: PrometheusFields, ctx: ExecutionContext) -> Reply:
    active = b.client.targets()
    label = b.host_label
    hosts = [t.name for t in action.targets]
    if hosts:
        active = [t for t in active if t.get("labels", {}).get(label) in hosts]
    now = b.clock()

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
        scraped = parse_rfc3339(t.get("lastScrape"))
        rows.append(
            [
                t.get("labels", {}).get(label, ""),
                tname(t),
                t.get("labels", {}).get("instance", ""),
                t.get("health", ""),
                ago(now - scraped) if scraped else _("never"),
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
