"""The configuration, validated at load. The `inventory` section is a contract (docs/DESIGN.md, Contracts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opsbot.config.schedule import parse_schedule
from opsbot.core.durations import parse_duration

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_name(kind: str, name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"{kind} name {name!r} must be letters, digits, '.', '_' or '-' (at most 63)")
    return name


class HostConfig(Strict):
    address: str
    port: int = Field(22, ge=1, le=65535)
    user: str | None = None  # default: ssh.user
    groups: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)


class RayServeConfig(Strict):
    """Where a `ray` deployment lives: Ray's dashboard (its REST API serves /api/serve/applications/),
    the Serve application and deployment, and the application's HTTP address for release checks."""

    dashboard: str = Field(pattern=r"^https?://")  # http://127.0.0.1:8265
    app: str = Field(min_length=1)  # the Serve application's name
    deployment: str = Field(min_length=1)  # the deployment inside it that serves the model
    url: str | None = Field(None, pattern=r"^https?://")  # the app's HTTP address (its route prefix), for checks
    version_arg: str = "model_version"  # the application arg that names the registry version it serves


class ReleaseCheck(Strict):
    """One request sent to a freshly deployed version, and what its answer must satisfy. A failed
    check rolls the deploy back."""

    name: str = Field(min_length=1)
    path: str = "/v1/chat/completions"  # under ray.url
    method: Literal["GET", "POST"] = "POST"
    body: dict[str, Any] | None = None  # JSON sent with POST
    status: int = 200  # the answer's HTTP status
    max_latency: float | None = Field(None, gt=0)  # seconds
    json_has: list[str] = Field(default_factory=list)  # dotted paths that must exist (choices.0.message.content)
    forbid: list[str] = Field(default_factory=list)  # text that must not appear in the answer (secrets, canaries)
    forbid_patterns: list[str] = Field(default_factory=list)  # regexes, same

    @field_validator("forbid_patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for p in v:
            re.compile(p)
        return v


class DeploymentConfig(Strict):
    engine: Literal["ssh", "ray"] = "ssh"  # ssh: an `llmctl` script on the host; ray: Ray Serve + MLflow
    host: str | None = None  # ssh (required there)
    service: str | None = None  # ssh (required there)
    versions: list[str] = Field(default_factory=list)  # known versions, oldest first (for rollback)
    ray: RayServeConfig | None = None  # ray (required there)
    model: str | None = None  # ray: the registered model's name in MLflow
    capacity_rps: float | None = Field(None, gt=0)  # ray: requests/s one replica serves; else measured
    release_checks: list[ReleaseCheck] = Field(default_factory=list)  # ray: run after every deploy
    healthy_timeout: float = Field(180.0, gt=0, le=3600)  # ray: seconds a deploy may take to be healthy
    prometheus: str | None = Field(
        None, pattern=r"^https?://"
    )  # ray: the Prometheus scraping Ray (default: prometheus.url)

    @model_validator(mode="after")
    def _engine_fields(self) -> DeploymentConfig:
        if self.engine == "ssh" and not (self.host and self.service):
            raise ValueError("an ssh deployment needs `host` and `service`")
        if self.engine == "ray" and not (self.ray and self.model):
            raise ValueError("a ray deployment needs `ray` (dashboard, app, deployment) and `model` (MLflow)")
        return self


class MLflowConfig(Strict):
    """The MLflow tracking server whose Model Registry holds the `ray` deployments' models."""

    url: str = Field("http://127.0.0.1:5000", pattern=r"^https?://")
    timeout: float = Field(10.0, gt=0, le=120)
    alias: str = "champion"  # the alias that follows the live version


class Inventory(Strict):
    hosts: dict[str, HostConfig] = Field(default_factory=dict)
    deployments: dict[str, DeploymentConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Inventory:
        for name in self.hosts:
            _check_name("host", name)
        for name, dep in self.deployments.items():
            _check_name("deployment", name)
            if dep.host is not None and dep.host not in self.hosts:
                raise ValueError(f"deployment {name!r} runs on host {dep.host!r}, which is not in inventory.hosts")
        clash = set(self.groups()) & set(self.hosts)
        if clash:
            raise ValueError(f"{sorted(clash)} is both a host and a group name; rename one")
        return self

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, host in self.hosts.items():
            for g in host.groups:
                out.setdefault(g, []).append(name)
        return out

    def services(self) -> list[str]:
        seen: dict[str, None] = {}
        for host in self.hosts.values():
            for s in host.services:
                seen[s] = None
        for dep in self.deployments.values():
            if dep.service:
                seen[dep.service] = None
        return list(seen)


class AccessConfig(Strict):
    """Roles per user. Users not listed get `default_roles`."""

    default_roles: list[str] = Field(default_factory=lambda: ["viewer"])
    users: dict[str, list[str]] = Field(default_factory=dict)

    def roles_of(self, user: str) -> set[str]:
        return set(self.users.get(user, self.default_roles))


class RulesConfig(Strict):
    dirs: list[Path] = Field(default_factory=list)  # extra rule packs (YAML files or folders)
    defaults: bool = True  # also load the packs that ship with opsbot


class ParserConfig(Strict):
    default: Literal["offline", "llm", "auto"] | None = None  # None: auto when an LLM is configured
    min_confidence: float = Field(0.55, ge=0, le=1)


class LLMConfig(Strict):
    base_url: str | None = None
    api_key: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = Field(10.0, gt=0, le=120)
    max_retries: int = Field(2, ge=0, le=5)
    # how the answer's JSON schema is sent (opsbot.llm.structured); auto: learned once per endpoint
    structured: Literal["json_schema", "json_object", "grammar", "auto"] = "auto"
    top_k_rules: int = Field(8, ge=1, le=50)
    few_shot: int = Field(6, ge=0, le=30)
    cost_per_1k_input: float = 0.00015
    cost_per_1k_output: float = 0.0006

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key)


class PrometheusConfig(Strict):
    url: str = "http://127.0.0.1:9090"
    timeout: float = Field(10.0, gt=0, le=300)
    host_label: str = "host"  # label that names an inventory host on node_exporter series
    max_range: str = "30d"
    max_points: int = Field(600, ge=10, le=11000)

    @field_validator("host_label")
    @classmethod
    def _label_name(cls, v: str) -> str:
        # It is spliced into PromQL templates, so it must be a plain label name.
        if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", v):
            raise ValueError(f"{v!r} is not a Prometheus label name (letters, digits, _)")
        return v


class SSHConfig(Strict):
    user: str = "ops"
    key_file: Path | None = None
    known_hosts: Path | None = None  # default: ~/.ssh/known_hosts
    connect_timeout: float = Field(10.0, gt=0)
    command_timeout: float = Field(60.0, gt=0)
    max_parallel: int = Field(10, ge=1, le=256)
    max_output: int = Field(1_000_000, ge=1024)  # bytes kept per command


class LogSource(Strict):
    files: list[str] = Field(default_factory=list)  # globs on the host; rotated and .gz files included
    journald: str | None = None  # a systemd unit


class LogsConfig(Strict):
    sources: dict[str, LogSource] = Field(default_factory=dict)  # by service name
    max_lines: int = Field(20, ge=1, le=500)
    context: int = Field(0, ge=0, le=10)


class KnowledgeSource(Strict):
    path: Path  # a folder of Markdown (.md) and text (.txt) files, read recursively
    base_url: str | None = None  # links: base_url + "/" + the file's path + "#" + the heading's anchor
    name: str | None = None  # default: the folder's name


class KnowledgeConfig(Strict):
    """Runbooks `kb.ask` answers from (opsbot/knowledge)."""

    sources: list[KnowledgeSource] = Field(default_factory=list)
    top: int = Field(3, ge=1, le=10)  # sections quoted at most
    # "nothing relevant found" below these (opsbot/knowledge/index.py): the share of the question's
    # weight the best section covers, and the BM25 score that lets a strong match cover a bit less
    min_coverage: float = Field(0.4, ge=0, le=1)
    min_score: float = Field(3.0, ge=0)
    quote_chars: int = Field(500, ge=80, le=3000)  # of each quoted section
    refresh_seconds: float = Field(2.0, ge=0)  # how often a question may look for changed files
    llm_answers: bool = True  # with an LLM configured, a short answer citing the sections


class TuningConfig(Strict):
    """`opsbot tune --schedule`: when, through which labelled sets, and where to tell what changed."""

    schedule: str | list[str] | None = None  # as digests: "03:00" UTC daily, a list, or "every 6h"
    gate: list[str] = Field(default_factory=list)  # labelled sets (FILE or FILE=CONFIG) a new bank must not lower
    channel: str | None = None  # a Slack channel for the summary (printed only when unset)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | list[str] | None) -> str | list[str] | None:
        if v is not None:
            parse_schedule(v)
        return v


class SlackConfig(Strict):
    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    base_url: str | None = None  # Web API base (tests point this at a local server)
    port: int = 3000
    workers: int = Field(8, ge=1, le=64)  # threads doing the slow work off the ack path
    max_pending: int = Field(100, ge=1)  # queued requests before the ack says "busy"
    users: dict[str, str] = Field(default_factory=dict)  # Slack user id -> access user name


class AlertmanagerConfig(Strict):
    """Alerts from Alertmanager (its webhook receiver posts to `opsbot serve`'s POST /alertmanager)."""

    token: str | None = None  # the bearer token Alertmanager sends; none set: every webhook is refused
    url: str | None = None  # Alertmanager's own API (silences), e.g. http://127.0.0.1:9093
    channel: str = "alerts"  # where alert groups go when no alert rule names a channel
    storm: int = Field(10, ge=1)  # more new groups than this in a minute: one summary message instead
    timeout: float = Field(10.0, gt=0, le=120)


class AuditConfig(Strict):
    """The audit chain's HMAC key, kept outside the database: `key` (OPSBOT_AUDIT__KEY) or `key_file`.
    Without one the chain is plain SHA-256, which anyone able to write the database can recompute."""

    key: str | None = None
    key_file: Path | None = None
    # Where the chain's head is posted, and when ("HH:MM" UTC, a list, or "every 1h"): an anchor outside
    # the database that `opsbot audit verify --anchor` checks the chain against.
    channel: str | None = None
    anchor_schedule: str | list[str] = "every 1h"

    @field_validator("anchor_schedule")
    @classmethod
    def _schedule(cls, v: str | list[str]) -> str | list[str]:
        parse_schedule(v)
        return v

    def secret(self) -> bytes | None:
        if self.key:
            return self.key.encode()
        if self.key_file is not None:
            try:
                text = self.key_file.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ValueError(f"cannot read audit.key_file {self.key_file}: {e.strerror}") from None
            return text.encode() or None
        return None


class StoreConfig(Strict):
    """Keys that encrypt message texts and command outputs at rest (Fernet keys, `opsbot store new-key`):
    `keys` (OPSBOT_STORE__KEYS='["new", "old"]') or `key_file` (one key a line). The first key encrypts,
    every key decrypts; `opsbot store rotate-key` re-encrypts everything with the first."""

    keys: list[str] = Field(default_factory=list)
    key_file: Path | None = None

    def secrets(self) -> list[bytes]:
        keys = list(self.keys)
        if self.key_file is not None:
            try:
                keys += [
                    line.strip() for line in self.key_file.read_text(encoding="utf-8").splitlines() if line.strip()
                ]
            except OSError as e:
                raise ValueError(f"cannot read store.key_file {self.key_file}: {e.strerror}") from None
        return [k.encode() for k in keys]

    @field_validator("keys")
    @classmethod
    def _fernet_keys(cls, v: list[str]) -> list[str]:
        from cryptography.fernet import Fernet

        for i, key in enumerate(v):
            try:
                Fernet(key.encode())
            except (ValueError, TypeError):
                raise ValueError(
                    f"key {i + 1} is not a Fernet key (32 url-safe base64 bytes; `opsbot store new-key` makes one)"
                ) from None
        return v


class DigestConfig(Strict):
    channel: str = Field(min_length=1)  # a Slack channel id (C0123…) or name
    # "HH:MM" UTC daily, a list of them, or an interval "every 30m" / "every 1h" (aligned to UTC midnight)
    schedule: str | list[str] = "09:00"
    intents: list[str] = Field(default_factory=lambda: ["alerts.list", "targets.status"], min_length=1)
    language: Literal["en", "zh"] = "en"  # the digest's sentences (the channel has no asker to follow)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | list[str]) -> str | list[str]:
        parse_schedule(v)
        return v


class Config(BaseModel):
    """The whole configuration. `opsbot.config.load_config` reads it from YAML and, when the environment
    overrides it, through `opsbot.config.environment` (OPSBOT_*, SLACK_*, OPENAI_*, *_FILE secrets)."""

    # validate_default: a default is checked like a written value (as pydantic-settings does)
    model_config = ConfigDict(extra="forbid", validate_default=True)

    inventory: Inventory = Field(default_factory=Inventory)
    access: AccessConfig = Field(default_factory=AccessConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    parser: ParserConfig = Field(default_factory=ParserConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    database_url: str | None = None  # default: SQLite file in the state directory
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    mlflow: MLflowConfig = Field(default_factory=MLflowConfig)
    ssh: SSHConfig = Field(default_factory=SSHConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    digests: dict[str, DigestConfig] = Field(default_factory=dict)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    alertmanager: AlertmanagerConfig = Field(default_factory=AlertmanagerConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    approval_ttl: str = "15m"  # how long an approval request stays valid
    source: str | None = Field(None, exclude=True)  # the file this came from, for messages

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from sqlalchemy.engine import make_url  # only here: the config is read by code that has no store
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(v)
            _ = url.port  # a non-numeric port fails here, not at the first query
        except (ArgumentError, ValueError) as e:
            raise ValueError(f"not a database URL ({e}); write it like postgresql://user@host:5432/opsbot") from None
        return v

    @field_validator("digests")
    @classmethod
    def _digest_names(cls, v: dict[str, DigestConfig]) -> dict[str, DigestConfig]:
        # The name is the digest.send intent's `name` param, so it follows that param's pattern.
        for name in v:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name):
                raise ValueError(f"digest name {name!r} must be 1-40 letters, digits, '_' or '-'")
        return v

    @field_validator("approval_ttl")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v
