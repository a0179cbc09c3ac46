"""opsbot: plain-language ops requests turned into checked, audited actions."""

__version__ = "0.1.0"
