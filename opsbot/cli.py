"""The `opsbot` command line. Each sub-command is a thin shell around the core."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from pathlib import Path

from opsbot.yamlsource import SourceError


def _config(args):
    from opsbot.config import load_config

    return load_config(getattr(args, "config", None))


def _existing_store(config):
    """The configured store if it already exists (so `parse` sees tuned examples), without creating one:
    a dry parse leaves no database behind (only the parser's token cache, see example_cache.py)."""
    from opsbot.store.location import default_database_url

    url = config.database_url or default_database_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return None  # decided before importing the database libraries: a parse without a store stays quick
    from opsbot.store import Store

    try:
        store = Store(url)
        store.learned_version()
        return store
    except Exception as e:  # an unreachable database must not stop a dry parse
        print(f"opsbot: not using learned examples ({type(e).__name__}: {e})", file=sys.stderr)
        return None


def cmd_parse(args) -> int:
    from opsbot.parsing.factory import build_parser
    from opsbot.rules.loader import load_for

    config = _config(args)
    rules = load_for(config)
    parser = build_parser(config, args.parser, rules=rules, store=_existing_store(config))
    if args.conversation:
        return _parse_conversation(args, config, rules, parser)
    texts = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in texts:
        _print_task(args, _explained(parser.parse(text), config))
    return 0


def _explained(task, config):
    """A parse with no intent says why, when the reason is the setup rather than the text."""
    if task.intent is None and not task.choices and not config.inventory.hosts:
        task.note = (f"{task.note}; " if task.note else "") + (
            "no inventory is configured, so no host, service or deployment name is known "
            "(give --config FILE or set OPSBOT_CONFIG)"
        )
    return task


def _print_task(args, task) -> None:
    if args.json:
        print(json.dumps(task.public(), ensure_ascii=False), flush=True)
        return
    params = " ".join(f"{k}={v}" for k, v in task.params.items())
    note = f"  ({task.note})" if task.intent is None and task.note else ""
    print(f"{task.intent or '(no intent)'} {params}  [{task.parser} {task.confidence:.2f}]{note}", flush=True)


def _parse_conversation(args, config, rules, parser) -> int:
    """JSON lines {"thread", "user", "text"} in; one Task a line out, resolved in its thread."""
    from opsbot.core.task import Task
    from opsbot.pipeline.replay import replay

    with replay(config, rules, parser) as conversation:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                turn = json.loads(line)
                text, user = str(turn["text"]), str(turn.get("user") or "user")
                thread = str(turn.get("thread") or "")
            except (ValueError, KeyError, TypeError, AttributeError):
                _print_task(args, Task(intent=None, note=f"line {n} is not a JSON object with a text"))
                continue
            _print_task(args, _explained(conversation.turn(thread, user, text), config))
    return 0


def _default_user(config) -> str:
    """The console speaks as --user, $OPSBOT_USER, the first configured operator, or the login name."""
    if os.environ.get("OPSBOT_USER"):
        return os.environ["OPSBOT_USER"]
    for user, roles in config.access.users.items():
        if "operator" in roles:
            return user
    return getpass.getuser()


def cmd_chat(args) -> int:
    from opsbot.app import build_app
    from opsbot.frontends.console import Console

    lab = serving = None
    if args.lab:
        from opsbot.lab import Lab, LabUnavailable

        print("starting the local lab (sshd, Prometheus, node_exporter, demo services)…", flush=True)
        try:
            lab = Lab.start()
        except LabUnavailable as e:
            print(f"opsbot: the lab cannot start: {e}", file=sys.stderr)
            return 1
        args.config = str(lab.config_path)
        serving = _start_serving_lab(lab)
        print(f"lab config: {lab.config_path}", flush=True)
    try:
        config = _config(args)
        with build_app(config, args.parser) as app:
            read = input if sys.stdin.isatty() else _read_piped
            console = Console(app.pipeline, args.user or _default_user(config), read=read, lab=lab)
            stop_alerts = None
            if config.alertmanager.token:  # alerts from Alertmanager show up as they arrive
                from opsbot.frontends.console_alerts import start_console_alerts

                stop_alerts = start_console_alerts(app, console)
            try:
                return console.run()
            finally:
                if stop_alerts is not None:
                    stop_alerts()
    finally:
        if serving is not None:
            serving.stop()
        if lab is not None:
            lab.stop()


def _start_serving_lab(lab):
    """The lab's Ray Serve + MLflow deployment (tiny-chat), started in the background: its addresses go
    into the lab config now, and llm.* on it answers "unreachable" until the engines are up (tens of
    seconds), so the first prompt is not kept waiting. None when the `lab` extra is not installed."""
    import yaml

    from opsbot.lab.serving import MODEL, ServingLab, missing

    if os.environ.get("OPSBOT_LAB_SERVING", "1") == "0":
        return None  # asked not to (specs of the console that do not need it)
    absent = missing()
    if absent:
        print(f"(no Ray Serve / MLflow deployment: {', '.join(absent)} not installed; pip install 'opsbot[lab]')")
        return None
    serving = ServingLab.plan(lab.workdir / "serving")
    data = yaml.safe_load(lab.config_path.read_text())
    data["inventory"]["deployments"][MODEL] = serving.deployment_config()
    data["mlflow"] = {"url": serving.mlflow_url}
    lab.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    serving.start_in_background()
    print(f"starting Ray Serve and MLflow for {MODEL} in the background (about a minute)…", flush=True)
    return serving


def _read_piped(prompt: str) -> str:
    """Piped input: echo the prompt and the line, so a transcript reads like a session."""
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    print(f"{prompt}{line.rstrip()}", flush=True)
    return line


def cmd_serve(args) -> int:
    """The Slack front end: Socket Mode when an app-level token is set, else HTTP (Events API)."""
    from opsbot.frontends.slack import serve

    return serve(
        _config(args),
        mode=args.mode,
        host=args.host,
        port=args.port,
        workers=args.workers,
        parser=args.parser,
        log_format=args.log_format,
        verbose=args.verbose,
        drain_timeout=args.drain_timeout,
    )


def cmd_digest_run(args) -> int:
    """Run one digest now and print it; with --post, also post it to its Slack channel. No slot is
    claimed: whoever runs this (by hand, from cron) asked for this digest now."""
    from opsbot.app import build_app
    from opsbot.frontends.console import render
    from opsbot.scheduler import DIGEST_INTENT

    config = _config(args)
    digest = config.digests.get(args.name)
    if digest is None:
        known = ", ".join(config.digests) or "none configured"
        print(f"opsbot digest run: there is no digest called {args.name!r} (known: {known})", file=sys.stderr)
        return 2
    if args.post and not config.slack.bot_token:
        print("opsbot digest run: --post needs Slack: set SLACK_BOT_TOKEN (xoxb-…) or slack.bot_token", file=sys.stderr)
        return 2
    from opsbot.i18n import use_language

    with build_app(config, "offline") as app, use_language(digest.language):  # a digest parses nothing
        reply = app.pipeline.run_scheduled(DIGEST_INTENT, {"name": args.name}, actor=args.actor)
    print(render(reply, lambda: Path(tempfile.mkdtemp(prefix="opsbot-charts-"))), flush=True)
    if args.post:
        from opsbot.frontends.slack.client import web_client
        from opsbot.frontends.slack.outbound import Outbox

        try:
            ts = Outbox(web_client(config.slack)).post(digest.channel, reply)
        except Exception as e:
            print(f"opsbot digest run: posting to {digest.channel} failed: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        print(f"posted to {digest.channel} (ts {ts})", flush=True)
    return 1 if reply.kind == "error" else 0


def cmd_config_check(args) -> int:
    from opsbot.config_check import main as check

    return check(args.file or args.config)


def cmd_rules_check(args) -> int:
    from opsbot.rules.loader import load_for, load_rules

    if args.dir:
        rules = load_rules([Path(args.dir)], defaults=False)
    else:
        rules = load_for(_config(args))
    alerts = f", {len(rules.alerts)} alert rules" if rules.alerts else ""
    print(f"ok: {len(rules.rules)} rules, {len(rules.intents())} intents{alerts}")
    return 0


def cmd_rules_test(args) -> int:
    from opsbot.incidents.tester import run_alert_examples
    from opsbot.parsing.offline import OfflineParser
    from opsbot.rules.loader import load_for, load_rules
    from opsbot.rules.tester import run_examples, with_sample_inventory

    config = with_sample_inventory(_config(args))
    rules = load_rules([Path(args.dir)], defaults=False) if args.dir else load_for(config)
    if args.payload:
        return _rules_test_payload(rules, config, Path(args.payload))
    outcomes = run_examples(rules, config, OfflineParser(rules, config)) + run_alert_examples(rules, config)
    for o in outcomes:
        if not o.ok or args.verbose:
            print(f"{'ok  ' if o.ok else 'FAIL'} {o.rule_id:22} {o.text!r}: {o.detail}")
    bad = sum(not o.ok for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    note = f" ({skipped} skipped: nothing in the inventory to fill them with)" if skipped else ""
    print(
        f"{len(outcomes) - bad - skipped} of {len(outcomes) - skipped} examples parse to their rule and render{note}; "
        "nothing was executed"
    )
    return 1 if bad else 0


def _rules_test_payload(rules, config, path: Path) -> int:
    """What an Alertmanager webhook payload (a JSON file) would start, alert by alert; nothing runs."""
    from opsbot.incidents.payload import PayloadError, parse_notification
    from opsbot.incidents.tester import plan_alert

    try:
        notification = parse_notification(path.read_bytes())
    except (OSError, PayloadError) as e:
        print(f"opsbot rules test: {path}: {e}", file=sys.stderr)
        return 2
    for alert in notification.alerts:
        name, ran, notes = plan_alert(rules, config, {**notification.common_labels, **alert.labels})
        print(f"{alert.name or '?'} ({alert.status}): rule {name or 'none'}; diagnose: {', '.join(ran) or 'nothing'}")
        for note in notes:
            print(f"    not run: {note}")
    print("nothing was executed")
    return 0


def _store(args):
    from opsbot.store import Store

    config = _config(args)
    return Store.open(config.database_url, config.audit.secret(), config.store.secrets())


def cmd_store_rotate_key(args) -> int:
    store = _store(args)
    if not store.sealer.active:
        print("no store keys configured: set store.keys (or OPSBOT_STORE__KEYS) with the new key first")
        return 1
    done = store.rotate_key()
    print("re-encrypted with the first key: " + ", ".join(f"{table} {n}" for table, n in done.items()))
    return 0


def cmd_store_new_key(args) -> int:
    from opsbot.store.sealing import new_key

    print(new_key())
    return 0


def cmd_audit_verify(args) -> int:
    from opsbot.store.audit import parse_anchor

    anchor = None
    if args.anchor:
        # SEQ:HASH as logged ("audit anchor 42:k:…"), or a log file: its last anchor line
        path = Path(args.anchor)
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else args.anchor
        anchor = parse_anchor(text)
        if anchor is None:
            print(f"no audit anchor (SEQ:HASH) in {args.anchor!r}")
            return 2
    store = _store(args)
    problems = store.verify_audit(anchor)
    for p in problems:
        print(p)
    if not problems:
        print(f"audit trail intact ({len(store.audit_rows(limit=10**9))} rows)")
    return 1 if problems else 0


def cmd_feedback_export(args) -> int:
    for row in _store(args).export_feedback():
        print(json.dumps(row, ensure_ascii=False, default=str))
    return 0


def cmd_tune(args) -> int:
    from opsbot.rules.loader import load_for
    from opsbot.tuning.tune import describe, revert, tune

    config = _config(args)
    store = _store(args)
    if args.revert:
        try:
            version = revert(store)
        except LookupError as e:
            print(f"opsbot: {e}", file=sys.stderr)
            return 1
        print(f"reverted: the learned examples are now version {version} ({len(store.learned_examples())} examples)")
        return 0
    if args.schedule:
        return _tune_on_schedule(config, store, args)
    result = tune(store, load_for(config), config, dry_run=args.dry_run, gate=args.gate)
    print(describe(result, dry_run=args.dry_run))
    return 1 if result.refused else 0


def _tune_on_schedule(config, store, args) -> int:
    from opsbot.tuning.scheduled import run_forever

    if args.gate:
        config.tuning.gate = args.gate
    if not config.tuning.schedule:
        print("opsbot tune --schedule: set tuning.schedule in the config (e.g. '03:00')", file=sys.stderr)
        return 2
    channel = config.tuning.channel

    def post(text: str) -> None:
        if channel and config.slack.bot_token:
            from opsbot.core.reply import Reply
            from opsbot.frontends.slack.client import web_client
            from opsbot.frontends.slack.outbound import Outbox

            Outbox(web_client(config.slack)).post(channel, Reply(text=text, kind="info"))

    print(f"tuning on schedule {config.tuning.schedule!r}, gate: {config.tuning.gate or 'none'}", flush=True)
    run_forever(config, store, post)
    return 0


def cmd_eval(args) -> int:
    from opsbot.tuning.evaluate import run

    config = _config(args)
    return run(
        args.dataset,
        config,
        args.parser,
        args.prompt,
        store=_store(args),
        min_accuracy=args.min,
        show_misses=not args.quiet,
        runbooks=args.runbooks,
    )


def cmd_llm_check(args) -> int:
    from opsbot.llm.check import check

    config = _config(args)
    if args.structured:
        config.llm.structured = args.structured
    if not config.llm.configured:
        print("opsbot llm check: no LLM is configured (set llm.base_url or llm.api_key)", file=sys.stderr)
        return 2
    result = check(config.llm)
    print(f"{config.llm.base_url or 'OpenAI'} model {config.llm.model}: {result.describe()}", flush=True)
    return 0 if result.ok else 1


def cmd_lab(argv: list[str]) -> int:
    from opsbot.lab.__main__ import main as lab_main

    return lab_main(argv)


def build_argparser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="opsbot", description="ChatOps bot: plain-language ops requests, checked and audited."
    )
    from opsbot import __version__

    ap.add_argument("--version", action="version", version=f"opsbot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        "-c",
        help="config file (default: $OPSBOT_CONFIG, ./opsbot.yaml, "
        "~/.config/opsbot/config.yaml, /etc/opsbot/config.yaml)",
    )
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", parents=[common], help="print the Task a text parses to (never executes anything)")
    p.add_argument("text", nargs="?", help="the utterance; without it, one per line on standard input")
    p.add_argument("--json", action="store_true", help="one JSON Task per line")
    p.add_argument(
        "--conversation",
        action="store_true",
        help='stdin is JSON lines {"thread", "user", "text"}: each resolved in its thread as the bot '
        "would (follow-ups, questions, choices, cancels)",
    )
    p.add_argument("--parser", choices=["offline", "llm", "auto"], default=None)
    p.set_defaults(func=cmd_parse)

    c = sub.add_parser("chat", parents=[common], help="the console front end")
    c.add_argument("--user", help="who you are (a name from access.users)")
    c.add_argument("--parser", choices=["offline", "llm", "auto"], default=None)
    c.add_argument("--lab", action="store_true", help="start the local lab and chat against it")
    c.set_defaults(func=cmd_chat)

    sv = sub.add_parser(
        "serve", parents=[common], help="the Slack front end (Socket Mode with SLACK_APP_TOKEN, else HTTP)"
    )
    sv.add_argument(
        "--mode",
        choices=["auto", "socket", "http"],
        default="auto",
        help="auto: Socket Mode when an app-level token is set, else HTTP",
    )
    sv.add_argument("--host", default="0.0.0.0", help="HTTP mode: the address to listen on (default 0.0.0.0)")
    sv.add_argument("--port", type=int, default=None, help="HTTP mode: the port (default: slack.port, 3000)")
    sv.add_argument("--workers", type=int, default=None, help="threads for slow work (default 8)")
    sv.add_argument("--parser", choices=["offline", "llm", "auto"], default=None)
    sv.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=os.environ.get("OPSBOT_LOG_FORMAT", "text"),
        help="text lines, or one JSON object a line with the request id (default: $OPSBOT_LOG_FORMAT or text)",
    )
    sv.add_argument("--verbose", "-v", action="store_true", help="also the libraries' info and debug lines")
    sv.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        help="on SIGTERM, seconds running requests may take to finish before they are recorded as "
        "interrupted (default 30)",
    )
    sv.set_defaults(func=cmd_serve)

    d = sub.add_parser("digest", help="scheduled digests")
    dsub = d.add_subparsers(dest="digest_command", required=True)
    dr = dsub.add_parser("run", parents=[common], help="run one digest now and print it (--post: also to Slack)")
    dr.add_argument("name", help="a digest name from the config's `digests:`")
    dr.add_argument("--post", action="store_true", help="also post it to the digest's Slack channel")
    dr.add_argument("--actor", default="cli", help="who the audit trail says ran it (default: cli)")
    dr.set_defaults(func=cmd_digest_run)

    cf = sub.add_parser("config", help="the configuration")
    cfsub = cf.add_subparsers(dest="config_command", required=True)
    cc = cfsub.add_parser(
        "check",
        parents=[common],
        help="load the config and reach what it names (Prometheus, SSH host keys, the database, Slack); "
        "one line per check, exit 1 on any failure",
    )
    cc.add_argument("file", nargs="?", help="the config file (default: --config or the usual search path)")
    cc.set_defaults(func=cmd_config_check)

    r = sub.add_parser("rules", help="check or test rule packs")
    rsub = r.add_subparsers(dest="rules_command", required=True)
    rc = rsub.add_parser("check", parents=[common], help="validate rule packs; report every error with file:line")
    rc.add_argument("dir", nargs="?", help="a folder or file of rule packs (default: the configured ones)")
    rc.set_defaults(func=cmd_rules_check)
    rt = rsub.add_parser("test", parents=[common], help="parse, bind and render every example; execute nothing")
    rt.add_argument("dir", nargs="?")
    rt.add_argument("-v", "--verbose", action="store_true", help="show passing examples too")
    rt.add_argument("--payload", metavar="FILE", help="an Alertmanager webhook payload (JSON): show what it would run")
    rt.set_defaults(func=cmd_rules_test)

    a = sub.add_parser("audit", help="the audit trail")
    asub = a.add_subparsers(dest="audit_command", required=True)
    av = asub.add_parser("verify", parents=[common], help="check the hash chain; exit 1 if a row was edited or deleted")
    av.add_argument(
        "--anchor",
        help="a head seen outside the database: SEQ:HASH from an `audit anchor` log line, or a log file "
        "(its last anchor); detects a chain rewritten since",
    )
    av.set_defaults(func=cmd_audit_verify)

    st = sub.add_parser("store", help="the database: keys for texts and outputs at rest")
    stsub = st.add_subparsers(dest="store_command", required=True)
    rk = stsub.add_parser(
        "rotate-key", parents=[common], help="re-encrypt stored texts and outputs with the first of store.keys"
    )
    rk.set_defaults(func=cmd_store_rotate_key)
    nk = stsub.add_parser("new-key", help="print a new key for store.keys")
    nk.set_defaults(func=cmd_store_new_key)

    f = sub.add_parser("feedback", help="feedback collected from users")
    fsub = f.add_subparsers(dest="feedback_command", required=True)
    fe = fsub.add_parser("export", parents=[common], help="JSON lines: text, task, outcome, votes, correction")
    fe.set_defaults(func=cmd_feedback_export)

    t = sub.add_parser(
        "tune",
        parents=[common],
        help="promote confirmed parses (corrections, up-votes) into the learned examples (few-shot and offline)",
    )
    t.add_argument("--dry-run", action="store_true", help="show what would be promoted; write nothing")
    t.add_argument("--revert", action="store_true", help="go back to the previous version of the learned examples")
    t.add_argument(
        "--gate",
        nargs="+",
        metavar="DATASET",
        help="labelled sets (FILE or FILE=CONFIG) the new bank must not score lower on; else nothing is written",
    )
    t.add_argument(
        "--schedule",
        action="store_true",
        help="run unattended at tuning.schedule, through the gate, posting what changed to tuning.channel",
    )
    t.set_defaults(func=cmd_tune)

    e = sub.add_parser(
        "eval",
        parents=[common],
        help="accuracy, latency and tokens of a parser on a labelled JSON-lines set (never executes anything)",
    )
    e.add_argument(
        "dataset",
        help='JSON lines: {"text", "intent", "params", optional "forbid"}, or runbook questions {"text", "kb": [...]}',
    )
    e.add_argument("--parser", choices=["offline", "llm", "auto"], default=None)
    e.add_argument(
        "--prompt",
        action="append",
        metavar="FILE",
        help="a parse prompt template (default prompts/parse.j2); twice to compare two side by side",
    )
    e.add_argument("--min", type=float, default=0.0, help="exit 1 when accuracy is below this")
    e.add_argument("--quiet", action="store_true", help="do not list the misses")
    e.add_argument(
        "--runbooks",
        action="append",
        metavar="DIR",
        help='runbook questions ({"text", "kb": [section ids]}): search these folders (default: knowledge.sources)',
    )
    e.set_defaults(func=cmd_eval)

    lm = sub.add_parser("llm", help="the configured LLM server")
    lmsub = lm.add_subparsers(dest="llm_command", required=True)
    lc = lmsub.add_parser(
        "check", parents=[common], help="one tiny request: the structured-output mode that works, latency, tokens"
    )
    lc.add_argument(
        "--structured",
        choices=["json_schema", "json_object", "grammar", "auto"],
        help="try this mode instead of llm.structured",
    )
    lc.set_defaults(func=cmd_llm_check)

    # `opsbot lab …` hands its options to python -m opsbot.lab (see main); listed here for --help.
    sub.add_parser("lab", help="start the local lab (sshd, Prometheus, demo services) until Ctrl-C", add_help=False)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lab"]:
        return cmd_lab(argv[1:])
    args = build_argparser().parse_args(argv)
    try:
        return args.func(args)
    except SourceError as e:
        print(f"opsbot: {len(e.problems)} problem(s):\n{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a missing dataset, an unreadable file
        print(f"opsbot: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except Exception as e:
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(e, SQLAlchemyError):
            raise
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        print(f"opsbot: cannot use the database ({cause}); check database_url / OPSBOT_DATABASE_URL.", file=sys.stderr)
        return 2
