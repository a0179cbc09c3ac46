"""Ray Serve over the Ray dashboard's REST API: `GET /api/serve/applications/` (what runs, its state and
replicas) and `PUT /api/serve/applications/` (the declarative config of every application). Plain HTTP:
the bot needs no ray package. A PUT replaces the whole config, so a change to one application sends the
others back as they were deployed."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import requests

from opsbot.serving.http import EngineError, call

PATH = "/api/serve/applications/"


@dataclass
class DeploymentState:
    name: str
    status: str  # HEALTHY, UPDATING, UNHEALTHY, ...
    message: str
    target_replicas: int | None
    running: int
    starting: int


@dataclass
class AppState:
    name: str
    status: str  # RUNNING, DEPLOYING, DEPLOY_FAILED, UNHEALTHY, DELETING, NOT_STARTED
    message: str
    deployed_at: float  # last_deployed_time_s
    config: dict[str, Any]  # deployed_app_config: what a PUT sends back
    deployments: dict[str, DeploymentState]

    def arg(self, name: str) -> str | None:
        value = (self.config.get("args") or {}).get(name)
        return None if value is None else str(value)


def _deployment(name: str, d: dict[str, Any]) -> DeploymentState:
    states = [str(r.get("state", "")) for r in d.get("replicas") or [] if isinstance(r, dict)]
    cfg = d.get("deployment_config") or {}
    target = d.get("target_num_replicas", cfg.get("num_replicas"))
    return DeploymentState(
        name=name,
        status=str(d.get("status") or ""),
        message=str(d.get("message") or ""),
        target_replicas=int(target) if isinstance(target, int) else None,
        running=states.count("RUNNING"),
        starting=sum(1 for s in states if s in ("STARTING", "PENDING_MIGRATION", "RECOVERING")),
    )


class RayServe:
    """One Ray cluster's Serve, through its dashboard."""

    def __init__(self, dashboard: str, timeout: float = 10.0):
        self.url = dashboard.rstrip("/") + PATH
        self.timeout = timeout
        self.session = requests.Session()

    def _status(self) -> dict[str, Any]:
        body = call(self.session, "GET", self.url, "Ray Serve", self.timeout)
        return body if isinstance(body, dict) else {}

    def applications(self) -> dict[str, AppState]:
        out = {}
        for name, a in (self._status().get("applications") or {}).items():
            if not isinstance(a, dict):
                continue
            out[name] = AppState(
                name=name,
                status=str(a.get("status") or ""),
                message=str(a.get("message") or ""),
                deployed_at=float(a.get("last_deployed_time_s") or 0),
                config=a.get("deployed_app_config") or {},
                deployments={n: _deployment(n, d) for n, d in (a.get("deployments") or {}).items()},
            )
        return out

    def application(self, name: str) -> AppState | None:
        return self.applications().get(name)

    def put(self, app_config: dict[str, Any], http_options: dict[str, Any] | None = None) -> None:
        """Deploy `app_config` (one application, replacing the one of that name); the others stay as
        they were deployed."""
        status = self._status()
        apps = [
            copy.deepcopy(a.get("deployed_app_config"))
            for n, a in (status.get("applications") or {}).items()
            if isinstance(a, dict) and a.get("deployed_app_config") and n != app_config.get("name")
        ]
        body: dict[str, Any] = {"applications": [*apps, app_config]}
        current = status.get("http_options") or {}
        http = http_options or {k: current[k] for k in ("host", "port") if k in current}
        if http:
            body["http_options"] = http
        call(self.session, "PUT", self.url, "Ray Serve", self.timeout, json=body)

    def update(
        self,
        app: str,
        *,
        args: dict[str, Any] | None = None,
        deployment: str | None = None,
        replicas: int | None = None,
    ) -> float:
        """Change one application's args and/or one deployment's replica count; returns the
        application's deployed time before the change (a later one means Ray took it)."""
        state = self.application(app)
        if state is None or not state.config:
            raise EngineError(f"Ray Serve has no application {app!r}.")
        cfg = copy.deepcopy(state.config)
        if args:
            cfg["args"] = {**(cfg.get("args") or {}), **args}
        if deployment is not None and replicas is not None:
            deps = cfg.setdefault("deployments", [])
            entry = next((d for d in deps if d.get("name") == deployment), None)
            if entry is None:
                entry = {"name": deployment}
                deps.append(entry)
            entry.pop("autoscaling_config", None)
            entry["num_replicas"] = replicas
        self.put(cfg)
        return state.deployed_at

    def close(self) -> None:
        self.session.close()
