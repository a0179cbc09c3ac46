"""What every llmserve kind needs: the deployment a request names (a `ray` one), its engines, and how
times are written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsbot.config import Config, DeploymentConfig
from opsbot.config.models import RayServeConfig
from opsbot.core.action import Action
from opsbot.i18n import _
from opsbot.serving.http import EngineError
from opsbot.serving.ray import RayServe
from opsbot.serving.registry import Registry


@dataclass
class RayDeployment:
    name: str
    dep: DeploymentConfig
    ray_cfg: RayServeConfig
    model: str


def ray_deployment(config: Config, action: Action) -> RayDeployment:
    """The request's deployment, which must run on Ray; EngineError (one sentence) otherwise."""
    name = str(action.params.get("deployment") or "")
    deps = config.inventory.deployments
    dep = deps.get(name)
    if dep is None:
        known = ", ".join(n for n, d in deps.items() if d.engine == "ray") or _("none")
        raise EngineError(
            _("I don't know the deployment {name}; Ray deployments: {known}.").format(name=name, known=known)
        )
    if dep.engine != "ray" or dep.ray is None or dep.model is None:
        raise EngineError(
            _("{name} is served by llmctl over SSH, not Ray Serve; it has no registry versions.").format(name=name)
        )
    return RayDeployment(name, dep, dep.ray, dep.model)


def ray_of(rd: RayDeployment, timeout: float) -> RayServe:
    return RayServe(rd.ray_cfg.dashboard, timeout)


def registry_of(config: Config) -> Registry:
    return Registry(config.mlflow.url, config.mlflow.timeout)


def when(dt: datetime | None) -> str:
    return f"{dt:%Y-%m-%d %H:%M}" if dt else "—"
