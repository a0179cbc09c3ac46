"""Who may ask for a rule and who may approve it. `admin` holds every role."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.rules.schema import Rule

ADMIN = "admin"


def _holds(roles: set[str], wanted: list[str]) -> bool:
    return "*" in wanted or ADMIN in roles or bool(roles & set(wanted))


def may_ask(config: Config, user: str, rule: Rule) -> str | None:
    """None when allowed, else the refusal as one sentence."""
    roles = config.access.roles_of(user)
    if _holds(roles, rule.allowed_roles):
        return None
    return (
        f"{user}, {rule.intent} needs the role {' or '.join(rule.allowed_roles)} and you have "
        f"{', '.join(sorted(roles)) or 'no roles'}; ask someone who has it, or an admin to grant it in `access:`."
    )


def may_approve(config: Config, approver: str, requester: str, rule: Rule) -> str | None:
    roles = config.access.roles_of(approver)
    policy = rule.policy.approval
    if approver == requester and not policy.allow_self:
        return (
            f"{approver}, you asked for this yourself; a second person with the role "
            f"{' or '.join(policy.roles)} must approve it."
        )
    if not _holds(roles, policy.roles):
        return (
            f"{approver}, approving {rule.intent} needs the role {' or '.join(policy.roles)}; "
            f"you have {', '.join(sorted(roles)) or 'no roles'}."
        )
    return None
