"""The bot's own commands: `help` (built from the loaded rules) and `digest` (read-only intents in one reply)."""

from __future__ import annotations

import re

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import BadFields, BotFields, read_fields
from opsbot.i18n import _, current_language

DEFAULT_DIGEST = ["alerts.list", "targets.status", "logs.errors"]  # alerts, targets and the top errors


def example_with_names(text: str, config: Config) -> str:
    """Fill an example's placeholders with real inventory names so it can be typed as is."""
    inv = config.inventory
    host = next(iter(inv.hosts), "web-1")
    fill = {
        "host": host,
        "service": (inv.hosts[host].services[0] if inv.hosts and inv.hosts[host].services else "nginx"),
        "deployment": next(iter(inv.deployments), "llama-chat"),
        "window": "6h",
        "horizon": "7d",
        "replicas": "3",
        "version": "v2",
        "metric": "disk",
        "severity": "critical",
        "pattern": "'timeout'",
        "promql": "`up`",
        "name": "daily",
    }
    return re.sub(r"\{(\w+)\}", lambda m: fill.get(m.group(1), m.group(0)), text)


class BotExecutor:
    name = "bot"

    def __init__(self, config: Config):
        self.config = config

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        try:
            kind = read_fields(BotFields, action).kind
        except BadFields as e:
            return Reply.error(str(e))
        return self._help(ctx) if kind == "help" else self._digest(action, ctx)

    def _help(self, ctx: ExecutionContext) -> Reply:
        zh_first = current_language() == "zh"
        rows = []
        for c in ctx.capabilities:
            example = example_with_names(c.example_en, self.config) if c.example_en else ""
            zh = example_with_names(c.example_zh, self.config) if c.example_zh else ""
            flag = " " + _("(needs approval)") if c.needs_approval and "approv" not in c.summary.lower() else ""
            rows.append([c.intent, _(c.summary) + flag] + ([zh, example] if zh_first else [example, zh]))
        columns = [_("command"), _("what it does")] + (["试试", "English"] if zh_first else [_("try"), "中文"])
        return Reply(
            text=_(
                "Here is what I can do. Ask in plain English or Chinese; state-changing commands "
                "wait for a second person's approval."
            ),
            kind="info",
            tables=[Table(columns=columns, rows=rows)],
        )

    def _digest(self, action: Action, ctx: ExecutionContext) -> Reply:
        name = action.params.get("name")
        if name and name not in self.config.digests:
            known = ", ".join(self.config.digests) or _("none configured")
            return Reply.error(
                _("There is no digest called {name} (known: {known}).").format(name=repr(name), known=known)
            )
        digest = self.config.digests.get(name) if name else next(iter(self.config.digests.values()), None)
        intents = digest.intents if digest else DEFAULT_DIGEST
        parts, tables, images = [], [], []
        for intent in intents:
            ctx.progress(_("digest: {intent}…").format(intent=intent))
            r = ctx.run_intent(intent)
            parts.append(f"• {intent}: {r.text}")
            tables += r.tables
            images += r.images
        title = _("Digest {name}").format(name=name) if name else _("Digest")
        return Reply(text=f"*{title}*\n" + "\n".join(parts), tables=tables, images=images)
