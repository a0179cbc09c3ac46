"""This process's memory, from /proc: for specs and benchmarks that bound what one operation costs."""

from __future__ import annotations

from pathlib import Path


def vm_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (VmRSS, VmHWM = peak RSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss() -> None:
    """Make VmHWM (the peak RSS) start again from the current RSS, so a peak measures one operation."""
    Path("/proc/self/clear_refs").write_text("5")
