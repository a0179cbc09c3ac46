"""The offline parser, split along its stages (see parser.py for the order)."""

from opsbot.parsing.offline.parser import OfflineParser

__all__ = ["OfflineParser"]
