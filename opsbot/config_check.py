"""`opsbot config check [FILE]`: will this configuration work here? One line per check, each reaching
the real thing: the file loads and validates, the inventory and rule packs agree, Prometheus answers,
every inventory host's SSH key matches known_hosts, the database answers with its schema current, and
Slack accepts the bot token (auth.test). Nothing is written and nothing runs on a host.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opsbot.config import Config, load_config
from opsbot.yamlsource import SourceError

Status = Literal["ok", "FAIL", "skip"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail}"


def run_checks(path: str | None) -> Iterator[Check]:
    """Each check as it finishes; when the config does not load, that is the only one."""
    try:
        config = load_config(path)
    except SourceError as e:
        yield Check("config", "FAIL", "; ".join(str(p) for p in e.problems))
        return
    yield Check("config", "ok", f"{config.source or 'built-in defaults (no file found)'}")
    steps: list[Callable[[Config], Check]] = [inventory, prometheus, ssh_host_keys, database, slack]
    for step in steps:
        try:
            yield step(config)
        except Exception as e:  # a check that breaks is a failed check, never a traceback
            yield Check(step.__name__.replace("_", " "), "FAIL", f"{type(e).__name__}: {e}")


def inventory(config: Config) -> Check:
    from opsbot.rules.loader import load_for

    inv = config.inventory
    try:
        rules = load_for(config)
    except SourceError as e:
        return Check("inventory", "FAIL", f"the rule packs do not load: {'; '.join(str(p) for p in e.problems)}")
    groups = {g for h in inv.hosts.values() for g in h.groups}
    return Check(
        "inventory",
        "ok",
        f"{len(inv.hosts)} hosts, {len(groups)} groups, {len(inv.deployments)} deployments; "
        f"{len(rules.rules)} rules for {len(rules.intents())} intents",
    )


def prometheus(config: Config) -> Check:
    import requests

    url = config.prometheus.url.rstrip("/")
    try:
        resp = requests.get(f"{url}/api/v1/status/buildinfo", timeout=min(config.prometheus.timeout, 10))
        resp.raise_for_status()
        version = resp.json()["data"]["version"]
    except Exception as e:
        return Check("prometheus", "FAIL", f"{url} does not answer as Prometheus: {_reason(e)}")
    return Check("prometheus", "ok", f"{url} answers (Prometheus {version})")


def ssh_host_keys(config: Config) -> Check:
    import paramiko

    hosts = config.inventory.hosts
    if not hosts:
        return Check("ssh host keys", "skip", "no hosts in the inventory")
    known = Path(config.ssh.known_hosts) if config.ssh.known_hosts else Path.home() / ".ssh" / "known_hosts"
    pinned = paramiko.HostKeys()
    if known.is_file():
        pinned.load(str(known))
    problems = []
    for name, host in hosts.items():
        problem = _host_key_problem(host.address, host.port, pinned, config.ssh.connect_timeout)
        if problem:
            problems.append(f"{name} ({host.address}:{host.port}) {problem}")
    if problems:
        return Check("ssh host keys", "FAIL", f"checked against {known}: " + "; ".join(problems))
    return Check("ssh host keys", "ok", f"all {len(hosts)} hosts present the key pinned in {known}")


def _host_key_problem(address: str, port: int, pinned, timeout: float) -> str | None:
    """Why the host's key is not the pinned one (or the host cannot be asked), or None. Only the key
    exchange runs: no login is attempted."""
    import paramiko

    name = address if port == 22 else f"[{address}]:{port}"
    expected = pinned.lookup(name)
    if not expected:
        return "is not in known_hosts"
    try:
        sock = socket.create_connection((address, port), timeout=min(timeout, 10))
    except OSError as e:
        return f"cannot be reached: {_reason(e)}"
    transport = paramiko.Transport(sock)
    try:
        # ask for a pinned key type (an RSA key is offered under its SHA-2 signature names)
        types = [t for k in expected for t in (("rsa-sha2-512", "rsa-sha2-256", k) if k == "ssh-rsa" else (k,))]
        transport.get_security_options().key_types = tuple(types)
        transport.start_client(timeout=min(timeout, 10))
        key = transport.get_remote_server_key()
    except Exception as e:
        return f"did not complete the key exchange: {_reason(e)}"
    finally:
        transport.close()
    if expected.get(key.get_name()) != key:
        return f"presents a different {key.get_name()} key than the pinned one (changed, or someone is in between)"
    return None


def database(config: Config) -> Check:
    from opsbot.store.location import default_database_url

    url = config.database_url or default_database_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return Check("database", "ok", f"{url} does not exist yet; opsbot creates it on first start")
    from opsbot.store import Store

    with Store(url) as store:
        shown = repr(store)
        problem = store.schema_problem()
    if problem:
        return Check("database", "FAIL", f"{shown}: {problem}")
    return Check("database", "ok", f"{shown} answers; the schema is current")


def slack(config: Config) -> Check:
    if not config.slack.bot_token:
        return Check("slack", "skip", "no bot token (SLACK_BOT_TOKEN, SLACK_BOT_TOKEN_FILE or slack.bot_token)")
    from slack_sdk import WebClient

    base = config.slack.base_url or WebClient.BASE_URL
    client = WebClient(token=config.slack.bot_token, base_url=base if base.endswith("/") else base + "/", timeout=10)
    try:
        who = client.auth_test()
    except Exception as e:
        error = getattr(getattr(e, "response", None), "get", lambda _k: None)("error")
        return Check("slack", "FAIL", f"auth.test refused the bot token: {error or _reason(e)}")
    return Check("slack", "ok", f"auth.test: the bot is {who.get('user')} in {who.get('team')}")


def _reason(e: BaseException) -> str:
    """The root cause in a few words: HTTP and SSH libraries wrap "Connection refused" several deep."""
    seen, todo = set(), [e]
    while todo:
        x = todo.pop(0)
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, OSError) and x.strerror:
            return x.strerror
        todo += [
            c for c in (x.__cause__, x.__context__, getattr(x, "reason", None), *x.args) if isinstance(c, BaseException)
        ]
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


def main(path: str | None) -> int:
    failed = False
    for check in run_checks(path):
        print(check.line(), flush=True)
        failed = failed or check.status == "FAIL"
    return 1 if failed else 0
