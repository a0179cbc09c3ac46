"""Records the store hands back (pydantic, like the rest of the core's data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

ApprovalStatus = Literal["pending", "approved", "denied", "expired", "executed"]


class ApprovalRecord(BaseModel):
    id: str
    request_id: str
    rule_id: str
    intent: str
    params: dict[str, Any]
    targets: list[str] | None = None  # the hosts the approver is shown; what runs must still be these
    requester: str
    status: ApprovalStatus
    approver: str | None = None
    channel: str | None = None
    thread: str | None = None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    executed_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        """True once a pending approval can no longer be decided (even before a sweep marks it)."""
        return self.status == "expired" or (self.status == "pending" and now >= self.expires_at)
