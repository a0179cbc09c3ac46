"""Which inventory host an alert is about, from the labels that usually name one."""

from __future__ import annotations

from opsbot.config import Inventory

HOST_LABELS = ("host", "hostname", "instance", "node", "nodename", "target")


def host_of(labels: dict[str, str], inventory: Inventory) -> str | None:
    """The inventory host named by the alert's host labels (a name, `name:port`, or an address only one
    host has); None when they name none. Label values are untrusted: they are only compared here."""
    for label in HOST_LABELS:
        value = labels.get(label)
        if not value or len(value) > 300:
            continue
        candidates = [value, value.rsplit(":", 1)[0]] if ":" in value else [value]
        for name in candidates:
            if name in inventory.hosts:
                return name
        address = candidates[-1].strip("[]")
        owners = [name for name, h in inventory.hosts.items() if h.address == address]
        if len(owners) == 1:
            return owners[0]
    return None
