"""A rollout on Ray Serve: resolve the version in the registry, point the Serve application at it, wait
until Ray says it is healthy (within the deployment's bound), run the release checks, and either move the
registry alias to it or roll back to what was live by itself, saying why. Scaling waits the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from opsbot.config.models import DeploymentConfig
from opsbot.i18n import _
from opsbot.serving.checks import CheckResult, run_checks
from opsbot.serving.http import EngineError
from opsbot.serving.ray import AppState, RayServe
from opsbot.serving.registry import ModelVersion, Registry

PREVIOUS_ALIAS = "previous"  # the version live before the champion (what `rollback` goes back to)
FAILED = {"DEPLOY_FAILED", "UNHEALTHY"}


class UnknownVersion(EngineError):
    """The version is not in the registry (or archived); the message lists the real ones."""


@dataclass
class Outcome:
    ok: bool
    live: str | None  # the version serving at the end
    previous: str | None  # what served before
    message: str
    checks: list[CheckResult] = field(default_factory=list)
    rolled_back: bool = False
    seconds: float = 0.0


def find_version(by_version: dict[str, ModelVersion], wanted: str) -> ModelVersion | None:
    """The version `wanted` names ("3" or "v3") among `by_version`, or None."""
    key = wanted[1:] if wanted[:1] in "vV" and wanted[1:] in by_version else wanted
    return by_version.get(key)


def resolve(registry: Registry, model: str, wanted: str) -> ModelVersion:
    """The registry version `wanted` names ("3" or "v3"); UnknownVersion listing the live ones otherwise."""
    versions = [v for v in registry.versions(model) if not v.archived]
    found = find_version({v.version: v for v in versions}, wanted)
    if found is not None:
        return found
    known = ", ".join(v.version for v in versions) or _("none")
    raise UnknownVersion(
        _("{model} has no version {version} in the registry; its versions are: {known}.").format(
            model=model, version=wanted, known=known
        )
    )


class Rollout:
    def __init__(
        self,
        dep: DeploymentConfig,
        ray: RayServe,
        registry: Registry,
        alias: str = "champion",
        progress: Callable[[str], None] = lambda text: None,
        poll: float = 0.5,
    ):
        assert dep.ray is not None and dep.model is not None  # a ray deployment (checked at config load)
        self.dep, self.rs, self.model = dep, dep.ray, dep.model
        self.ray, self.registry, self.alias = ray, registry, alias
        self.progress, self.poll = progress, poll

    def app(self) -> AppState:
        app = self.ray.application(self.rs.app)
        if app is None:
            raise EngineError(_("Ray Serve has no application {app}.").format(app=self.rs.app))
        return app

    def live(self) -> str | None:
        return self.app().arg(self.rs.version_arg)

    def wait_healthy(self, since: float, version: str | None, replicas: int | None, timeout: float) -> str | None:
        """None once the application runs `version` (and `replicas` running replicas) after the change made
        at `since`; else why not (failed, or not within `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            app = self.app()
            dep = app.deployments.get(self.rs.deployment)
            fresh = app.deployed_at > since
            if fresh and app.status in FAILED:
                return _("Ray reports the application {status}: {message}").format(
                    status=app.status, message=app.message[:300] or "—"
                )
            done = (
                fresh
                and app.status == "RUNNING"
                and dep is not None
                and dep.status == "HEALTHY"
                and (version is None or app.arg(self.rs.version_arg) == version)
                and (replicas is None or (dep.running == replicas and dep.starting == 0))
            )
            if done:
                return None
            if time.monotonic() > deadline:
                state = f"{app.status}/{dep.status if dep else '?'}"
                return _("it was not healthy within {seconds:g}s (Ray says {state}).").format(
                    seconds=timeout, state=state
                )
            time.sleep(self.poll)

    def deploy(self, wanted: str | ModelVersion, run_release_checks: bool = True) -> Outcome:
        """Deploy `wanted` (a version to resolve, or one already resolved in the registry)."""
        started = time.monotonic()
        target = (wanted if isinstance(wanted, ModelVersion) else resolve(self.registry, self.model, wanted)).version
        previous = self.live()
        if previous == target:
            return Outcome(True, target, previous, _("Version {version} is already live.").format(version=target))
        self.progress(
            _("Deploying version {version} (live now: {previous})…").format(version=target, previous=previous)
        )
        since = self.ray.update(self.rs.app, args={self.rs.version_arg: target})
        problem = self.wait_healthy(since, target, None, self.dep.healthy_timeout)
        checks: list[CheckResult] = []
        if problem is None and run_release_checks and self.dep.release_checks and self.rs.url:
            self.progress(_("Version {version} is healthy; running the release checks…").format(version=target))
            checks = run_checks(self.dep.release_checks, self.rs.url)
            failed = [c for c in checks if not c.ok]
            if failed:
                problem = _("release checks failed: {checks}").format(
                    checks="; ".join(f"{c.name}: {c.why}" for c in failed)
                )
        if problem is None:
            if previous:
                self.registry.set_alias(self.model, PREVIOUS_ALIAS, previous)
            self.registry.set_alias(self.model, self.alias, target)
            return Outcome(
                True,
                target,
                previous,
                _("Version {version} is live and healthy; the alias {alias} now points to it.").format(
                    version=target, alias=self.alias
                ),
                checks,
                seconds=time.monotonic() - started,
            )
        if previous is None:
            return Outcome(
                False,
                target,
                None,
                _("Version {version} failed: {problem}").format(version=target, problem=problem),
                checks,
                seconds=time.monotonic() - started,
            )
        self.progress(_("Rolling back to {previous}…").format(previous=previous))
        back = self.ray.update(self.rs.app, args={self.rs.version_arg: previous})
        again = self.wait_healthy(back, previous, None, self.dep.healthy_timeout)
        message = _("Version {version} failed ({problem}); rolled back to {previous}, alias {alias} unchanged.").format(
            version=target, problem=problem, previous=previous, alias=self.alias
        )
        if again:
            message += " " + _("The rollback is not healthy either: {problem}").format(problem=again)
        return Outcome(False, previous, previous, message, checks, rolled_back=True, seconds=time.monotonic() - started)

    def previous_version(self) -> str | None:
        m = self.registry.model(self.model)
        return m.aliases.get(PREVIOUS_ALIAS) if m else None

    def scale(self, replicas: int) -> Outcome:
        started = time.monotonic()
        app = self.app()
        dep = app.deployments.get(self.rs.deployment)
        before = dep.target_replicas if dep else None
        self.progress(
            _("Scaling {deployment} from {before} to {after} replicas…").format(
                deployment=self.rs.deployment, before=before, after=replicas
            )
        )
        since = self.ray.update(self.rs.app, deployment=self.rs.deployment, replicas=replicas)
        problem = self.wait_healthy(since, None, replicas, self.dep.healthy_timeout)
        live = app.arg(self.rs.version_arg)
        if problem:
            return Outcome(
                False,
                live,
                live,
                _("Scaling did not finish: {problem}").format(problem=problem),
                seconds=time.monotonic() - started,
            )
        return Outcome(
            True,
            live,
            live,
            _("{deployment} runs {count} replicas (was {before}).").format(
                deployment=self.rs.deployment, count=replicas, before=before if before is not None else "?"
            ),
            seconds=time.monotonic() - started,
        )
