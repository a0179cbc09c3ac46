"""The local lab: real sshd, demo services, Prometheus and node_exporter on loopback ports (see lab.py)."""

from opsbot.lab.lab import INSTALL_HINT, Lab, LabUnavailable

__all__ = ["INSTALL_HINT", "Lab", "LabUnavailable"]
