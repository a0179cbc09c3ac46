"""`llm.capacity DEPLOYMENT [HORIZON]`: the request rate forecast over the horizon (daily seasonality and
trend, opsbot/serving/capacity.py), the per-replica capacity (config `capacity_rps`, else the most one
replica was seen to serve), and the replicas the peak needs, with a chart and a Scale button (the button
sends the scale request in words, so it goes through the rules and approval like any other)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from opsbot.config import Config
from opsbot.core.action import Action
from opsbot.core.durations import format_duration, parse_duration
from opsbot.core.reply import Button, Image, Reply
from opsbot.executors.charts import Chart, Line, format_value, render_png
from opsbot.executors.fields import LLMServeFields
from opsbot.executors.llmserve import metrics
from opsbot.executors.llmserve.common import RayDeployment, ray_deployment, ray_of
from opsbot.i18n import _
from opsbot.serving import capacity as cap
from opsbot.serving.http import EngineError

STEP = 300
SHOWN_HISTORY = 2 * 86400  # the chart shows the last two days before the forecast


def _day(t: float, now: float) -> str:
    d = (datetime.fromtimestamp(t, UTC).date() - datetime.fromtimestamp(now, UTC).date()).days
    hhmm = f"{datetime.fromtimestamp(t, UTC):%H:%M}"
    if d == 0:
        return _("{time} today").format(time=hhmm)
    if d == 1:
        return _("{time} tomorrow").format(time=hhmm)
    return _("{time} in {days} days").format(time=hhmm, days=d)


def _current_replicas(rd: RayDeployment) -> int | None:
    try:
        app = ray_of(rd, 10.0).application(rd.ray_cfg.app)
    except EngineError:
        return None
    dep = app.deployments.get(rd.ray_cfg.deployment) if app else None
    return dep.target_replicas if dep else None


def capacity(config: Config, action: Action, fields: LLMServeFields, now: float | None = None) -> Reply:
    rd = ray_deployment(config, action)
    now = time.time() if now is None else now
    horizon = float(action.params.get("horizon_seconds") or 86400)
    span = parse_duration(fields.history)
    try:
        times, values = metrics.history(config, rd, now - span, now, STEP)
    except Exception as e:  # PromError: Prometheus down or slow; one sentence, nothing else was asked
        return Reply.error(_("I can't forecast {name}: {problem}").format(name=rd.name, problem=e))
    model = cap.fit(times, values)
    if model is None:
        return Reply.error(
            _(
                "{name} has too little request-rate history in Prometheus for a daily forecast "
                "(it needs half a day, has {have})."
            ).format(name=rd.name, have=format_duration(int(times[-1] - times[0])) if len(times) > 1 else _("none"))
        )
    per_replica = rd.dep.capacity_rps
    measured = per_replica is None
    if per_replica is None:
        try:
            _t, per = metrics.history(config, rd, now - span, now, STEP, key="per_replica")
        except Exception:
            per = []
        finite = [v for v in per if math.isfinite(v) and v > 0]
        per_replica = max(finite) if finite else None
    if per_replica is None:
        return Reply.error(
            _(
                "I can't tell what one replica of {name} serves: set capacity_rps in its config, "
                "or let it serve traffic first."
            ).format(name=rd.name)
        )
    plan, future, pred = cap.plan(model, now, horizon, per_replica, fields.headroom, STEP)
    current = _current_replicas(rd)
    text = _(
        "{name}: peak ~{peak} at {when} (UTC) within {horizon}; you need {replicas} replicas (now {current})."
    ).format(
        name=rd.name,
        peak=format_value(plan.peak_rps, "reqps"),
        when=_day(plan.peak_at, now),
        horizon=format_duration(int(horizon)),
        replicas=plan.replicas,
        current=current if current is not None else "?",
    )
    basis = (
        _("One replica serves up to {rps} (the most seen per replica); the peak may use {share:.0%} of that.")
        if measured
        else _("One replica serves {rps} (capacity_rps); the peak may use {share:.0%} of that.")
    )
    text += " " + basis.format(rps=format_value(per_replica, "reqps"), share=fields.headroom)
    shown = [i for i, t in enumerate(times) if t >= now - SHOWN_HISTORY]
    chart = Chart(
        title=_("{name}: requests/s and forecast").format(name=rd.name),
        unit="reqps",
        lines=[
            Line(_("requests/s"), [times[i] for i in shown], [values[i] for i in shown]),
            Line(_("requests/s") + " (forecast)", list(map(float, future)), list(map(float, pred)), dashed=True),
        ],
        threshold=(current * per_replica * fields.headroom) if current else None,
        now=now,
    )
    buttons = []
    if current is None or plan.replicas != current:
        buttons.append(
            Button(
                label=_("Scale to {replicas}").format(replicas=plan.replicas),
                action="choose",
                value=f"scale {rd.name} to {plan.replicas} replicas",
                style="primary",
            )
        )
        text += " " + _("(Or say: {request})").format(request=buttons[0].value)
    png = render_png(chart)
    return Reply(text=text, images=[Image(title=chart.title, png=png, filename="llm-capacity.png")], buttons=buttons)
