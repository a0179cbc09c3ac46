"""Who may ask for a rule and who may approve it. `admin` holds every role."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.i18n import _
from opsbot.rules.schema import Rule

ADMIN = "admin"


def _holds(roles: set[str], wanted: list[str]) -> bool:
    return "*" in wanted or ADMIN in roles or bool(roles & set(wanted))


def may_ask(config: Config, user: str, rule: Rule) -> str | None:
    """None when allowed, else the refusal as one sentence."""
    roles = config.access.roles_of(user)
    if _holds(roles, rule.allowed_roles):
        return None
    return _(
        "{user}, {intent} needs the role {roles} and you have {yours}; ask someone who has it, or an admin to "
        "grant it in `access:`."
    ).format(
        user=user,
        intent=rule.intent,
        roles=_(" or ").join(rule.allowed_roles),
        yours=", ".join(sorted(roles)) or _("no roles"),
    )


def may_approve(config: Config, approver: str, requester: str, rule: Rule) -> str | None:
    roles = config.access.roles_of(approver)
    policy = rule.policy.approval
    if approver == requester and not policy.allow_self:
        return _(
            "{approver}, you asked for this yourself; a second person with the role {roles} must approve it."
        ).format(approver=approver, roles=_(" or ").join(policy.roles))
    if not _holds(roles, policy.roles):
        return _("{approver}, approving {intent} needs the role {roles}; you have {yours}.").format(
            approver=approver,
            intent=rule.intent,
            roles=_(" or ").join(policy.roles),
            yours=", ".join(sorted(roles)) or _("no roles"),
        )
    return None
