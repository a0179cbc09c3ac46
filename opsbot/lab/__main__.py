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
    args = p.parse_args(argv)
    try:
        lab = Lab.start(args.workdir, extra_hosts=args.extra_hosts, prometheus=False if args.no_prometheus else None)
    except LabUnavailable as e:
        print(f"opsbot lab: {e}", file=sys.stderr)
        return 1
    with lab:
        print(lab.config_path, flush=True)
        print(
            f"sshd on 127.0.0.1:{lab.ssh_port}; Prometheus: {lab.prometheus_url or 'not started'}. "
            f"Try: opsbot chat --config {lab.config_path}   (Ctrl-C stops the lab)",
            file=sys.stderr,
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
