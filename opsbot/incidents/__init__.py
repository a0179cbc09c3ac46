"""Incidents: Alertmanager's notifications turned into one message per alert group, diagnosed at once
by the read-only intents the packs' alert rules name, with their suggestions one approved click away.

- payload.py: the webhook payload (version 4) as data, and the one-sentence errors for bad bodies;
- hosts.py: which inventory host an alert is about (from its host labels);
- steps.py: an alert rule's steps with their params filled from an alert's labels;
- message.py: a group as a front-end neutral Reply (the alert message, a storm summary);
- desk.py: the flow (claim the group, post or update its message, diagnose, fold storms).
"""

from opsbot.incidents.desk import IncidentDesk, Poster
from opsbot.incidents.payload import Notification, PayloadError, parse_notification

__all__ = ["IncidentDesk", "Notification", "PayloadError", "Poster", "parse_notification"]
