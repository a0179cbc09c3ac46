"""MLflow's Model Registry over its REST API (/api/2.0/mlflow/...): registered models, their versions
with the run's params and metrics, aliases, archiving. Plain HTTP: the bot needs no mlflow package.
Everything read from the registry is data (names, tags, descriptions): it is shown, never rendered."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from opsbot.serving.http import EngineError, call

API = "/api/2.0/mlflow"


def _when(ms: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, UTC)
    except (TypeError, ValueError):
        return None


def _pairs(items: Any) -> dict[str, str]:
    return {str(i.get("key")): str(i.get("value")) for i in items or [] if isinstance(i, dict) and "key" in i}


@dataclass
class ModelVersion:
    name: str
    version: str
    created: datetime | None
    user: str
    stage: str
    status: str
    source: str
    run_id: str
    description: str
    tags: dict[str, str]
    aliases: list[str]
    params: dict[str, str] = field(default_factory=dict)  # from the run that logged it
    metrics: dict[str, float] = field(default_factory=dict)
    artifact_bytes: int | None = None

    @property
    def archived(self) -> bool:
        return self.stage.lower() == "archived" or self.tags.get("opsbot.archived") == "true"

    @classmethod
    def of(cls, d: dict[str, Any]) -> ModelVersion:
        return cls(
            name=str(d.get("name", "")),
            version=str(d.get("version", "")),
            created=_when(d.get("creation_timestamp")),
            user=str(d.get("user_id") or ""),
            stage=str(d.get("current_stage") or "None"),
            status=str(d.get("status") or ""),
            source=str(d.get("source") or ""),
            run_id=str(d.get("run_id") or ""),
            description=str(d.get("description") or ""),
            tags=_pairs(d.get("tags")),
            aliases=[str(a) for a in d.get("aliases") or []],
        )


@dataclass
class RegisteredModel:
    name: str
    created: datetime | None
    updated: datetime | None
    description: str
    tags: dict[str, str]
    aliases: dict[str, str]  # alias -> version
    latest: list[ModelVersion]

    @classmethod
    def of(cls, d: dict[str, Any]) -> RegisteredModel:
        return cls(
            name=str(d.get("name", "")),
            created=_when(d.get("creation_timestamp")),
            updated=_when(d.get("last_updated_timestamp")),
            description=str(d.get("description") or ""),
            tags=_pairs(d.get("tags")),
            aliases={str(a.get("alias")): str(a.get("version")) for a in d.get("aliases") or [] if isinstance(a, dict)},
            latest=[ModelVersion.of(v) for v in d.get("latest_versions") or [] if isinstance(v, dict)],
        )


def _quoted(value: str) -> str:
    """A string literal for MLflow's search filter (the name is config, but quote it properly anyway)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Registry:
    """One MLflow tracking server's registry."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        return call(self.session, method, self.url + API + path, "MLflow", self.timeout, params=params, json=json)

    def _search(self, path: str, key: str, params: dict[str, Any], limit: int | None = None) -> list[dict]:
        """Every page of a search (up to `limit` items): 100 a page with a limit, 200 without."""
        out: list[dict] = []
        token: str | None = None
        while limit is None or len(out) < limit:
            page_params = {**params, "max_results": 200 if limit is None else min(100, limit - len(out))}
            if token:
                page_params["page_token"] = token
            page = self._call("GET", path, params=page_params)
            out += page.get(key) or []
            token = page.get("next_page_token")
            if not token:
                break
        return out

    def models(self, limit: int = 100) -> list[RegisteredModel]:
        found = self._search("/registered-models/search", "registered_models", {}, limit)
        return [RegisteredModel.of(m) for m in found]

    def model(self, name: str) -> RegisteredModel | None:
        try:
            page = self._call("GET", "/registered-models/get", params={"name": name})
        except EngineError as e:
            if e.code == "RESOURCE_DOES_NOT_EXIST" or e.status == 404:
                return None
            raise
        return RegisteredModel.of(page.get("registered_model") or {})

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of the model, oldest first."""
        found = self._search("/model-versions/search", "model_versions", {"filter": f"name={_quoted(name)}"})
        out = [ModelVersion.of(v) for v in found]
        return sorted(out, key=lambda v: int(v.version) if v.version.isdigit() else 0)

    def version(self, name: str, version: str) -> ModelVersion | None:
        try:
            page = self._call("GET", "/model-versions/get", params={"name": name, "version": version})
        except EngineError as e:
            if e.code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE") or e.status == 404:
                return None
            raise
        return ModelVersion.of(page.get("model_version") or {})

    def with_run(self, v: ModelVersion) -> ModelVersion:
        """`v` with its run's params and metrics and its artifacts' size filled in (when it has a run)."""
        if not v.run_id:
            return v
        found = self._call("GET", "/runs/get", params={"run_id": v.run_id}).get("run") or {}
        run = found.get("data") or {}
        v.user = v.user or str((found.get("info") or {}).get("user_id") or "")  # who logged the model
        v.params = _pairs(run.get("params"))
        v.metrics = {}
        for m in run.get("metrics") or []:
            try:
                v.metrics[str(m["key"])] = float(m["value"])
            except (KeyError, TypeError, ValueError):
                continue
        v.artifact_bytes = self._artifact_bytes(v.run_id, "")
        return v

    def _artifact_bytes(self, run_id: str, path: str, depth: int = 0) -> int | None:
        try:
            params = {"run_id": run_id, **({"path": path} if path else {})}
            files = self._call("GET", "/artifacts/list", params=params).get("files") or []
        except EngineError:
            return None
        total = 0
        for f in files:
            if f.get("is_dir") and depth < 4:
                total += self._artifact_bytes(run_id, str(f.get("path")), depth + 1) or 0
            else:
                total += int(f.get("file_size") or 0)
        return total

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._call("POST", "/registered-models/alias", json={"name": name, "alias": alias, "version": version})

    def archive(self, name: str, version: str) -> None:
        """Archive a version: the Archived stage where the server still has stages, and a tag always
        (MLflow 3 deprecates stages; the tag is what opsbot reads)."""
        self._call(
            "POST",
            "/model-versions/set-tag",
            json={"name": name, "version": version, "key": "opsbot.archived", "value": "true"},
        )
        with contextlib.suppress(EngineError):  # a server without stages: the tag says it
            self._call(
                "POST",
                "/model-versions/transition-stage",
                json={"name": name, "version": version, "stage": "Archived", "archive_existing_versions": False},
            )

    def close(self) -> None:
        self.session.close()
