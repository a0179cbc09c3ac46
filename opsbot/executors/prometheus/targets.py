"""`kind: targets` — scrape targets' health, per host when the request names hosts."""

from __future__ import annotations

from opsbot.core.action import Action, ExecutionContext
from opsbot.core.durations import ago
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import PrometheusFields
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.formatting import count, parse_rfc3339


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
        return e.rsplit(": ", 1)[-1] if e else ("not scraped yet" if t.get("health") == "unknown" else "")

    rows = []
    for t in sorted(active, key=lambda t: (t.get("labels", {}).get(label, ""), tname(t))):
        scraped = parse_rfc3339(t.get("lastScrape"))
        rows.append(
            [
                t.get("labels", {}).get(label, ""),
                tname(t),
                t.get("labels", {}).get("instance", ""),
                t.get("health", ""),
                ago(now - scraped) if scraped else "never",
                err(t),
            ]
        )
    table = Table(
        columns=[label, "target", "instance", "health", "last scrape", "error"], rows=rows[:100], title="Scrape targets"
    )
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
                lines.append(f"{h} is up ({count(len(mine), 'target')}: {', '.join(sorted(tname(t) for t in mine))}).")
            elif not up:
                lines.append(f"{h} is down: " + "; ".join(f"{tname(t)} is down ({err(t)})" for t in down) + ".")
            else:
                lines.append(
                    f"{h} is partly down: "
                    + "; ".join(f"{tname(t)} is down ({err(t)})" for t in down)
                    + f"; {', '.join(sorted(tname(t) for t in up))} "
                    + ("is" if len(up) == 1 else "are")
                    + " up."
                )
        return Reply(text="\n".join(lines), tables=[table] if rows else [], kind="result" if rows else "info")
    if not active:
        return Reply(text="Prometheus has no active scrape targets.", kind="info")
    down = [t for t in active if t.get("health") != "up"]
    if not down:
        text = f"All {count(len(active), 'target')} are up." if len(active) > 1 else "The only target is up."
    else:
        text = (
            f"{len(down)} of {count(len(active), 'target')} down: "
            + "; ".join(f"{t.get('labels', {}).get(label, '?')} {tname(t)} ({err(t)})" for t in down[:10])
            + (" …" if len(down) > 10 else "")
            + "."
        )
    return Reply(text=text, tables=[table])
