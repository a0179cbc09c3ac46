"""`python -m opsbot.lab`: start the lab, print its config path, run until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path

from opsbot.lab import Lab, LabUnavailable


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m opsbot.lab", description=__doc__)
    p.add_argument("--workdir", type=Path, help="keep the lab in this directory (default: a temporary one)")
    p.add_argument("--extra-hosts", type=int, default=0, help="add lab-01..lab-NN hosts (for fan-out)")
    p.add_argument("--no-prometheus", action="store_true", help="leave Prometheus and node_exporter out")
    p.add_argument(
        "--stop-service",
        metavar="HOST/SERVICE",
        help="in the running lab at --workdir: stop a demo service (its TargetDown alert fires), then exit",
    )
    p.add_argument("--start-service", metavar="HOST/SERVICE", help="start it again (the alert resolves), then exit")
    args = p.parse_args(argv)
    if args.stop_service or args.start_service:
        return _act_on_running_lab(args)
    try:
        lab = Lab.start(args.workdir, extra_hosts=args.extra_hosts, prometheus=False if args.no_prometheus else None)
    except LabUnavailable as e:
        print(f"opsbot lab: {e}", file=sys.stderr)
        return 1
    with lab:
        print(lab.config_path, flush=True)
        print(
            f"sshd on 127.0.0.1:{lab.ssh_port}; Prometheus: {lab.prometheus_url or 'not started'}; "
            f"Alertmanager: {lab.alertmanager.url if lab.alertmanager else 'not started'}"
            f"{f' (webhooks to 127.0.0.1:{lab.bot_port})' if lab.alertmanager else ''}. "
            f"Try: opsbot chat --config {lab.config_path}   (Ctrl-C stops the lab)",
            file=sys.stderr,
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


def _act_on_running_lab(args) -> int:
    from opsbot.lab import labctl

    if args.workdir is None or not (args.workdir / "lab.json").exists():
        print("opsbot lab: --workdir must name a running lab's folder (the one it was started with)", file=sys.stderr)
        return 2
    spec = args.stop_service or args.start_service
    host, _sep, service = spec.partition("/")
    state = labctl.State(str(args.workdir))
    try:
        if args.stop_service:
            labctl.stop_service(state, host, service)
        else:
            labctl.start_service(state, host, service)
    except Exception as e:
        print(f"opsbot lab: {e}", file=sys.stderr)
        return 1
    print(f"{'stopped' if args.stop_service else 'started'} {service} on {host}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
