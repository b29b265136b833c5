"""What a lead event carries (``data``), as lead-events.schema.json describes it.

Two views: the full lead, for PôleS's own tools, and the follow-up view, for endpoints that
follow one referrer's people (a Mission locale): status, site and programmes, no answers and
no contact details, which the person gave to PôleS only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

STATUSES = (
    "new",
    "contacted",
    "appointment",
    "enrolled",
    "not_eligible",
    "unreachable",
    "withdrawn",
)
EventType = Literal[
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "appointment.booked",
    "appointment.moved",
    "appointment.cancelled",
    "appointment.attended",
    "appointment.missed",
]
SCHEMA_PATH = Path(__file__).with_name("lead-events.schema.json")
# The person who changed a status: the assistant itself when it created the lead.
ASSISTANT = "assistant"


def iso(moment: datetime) -> str:
    """A time as receivers parse it most easily: ISO 8601, UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    previous: str | None
    status: str
    changed_by: str

    def data(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "previous": self.previous,
            "status": self.status,
            "changed_by": self.changed_by,
        }


@dataclass(frozen=True)
class LeadRecord:
    """A stored lead with its history, as the hand-off reads it."""

    id: str
    created_at: datetime
    updated_at: datetime
    channel: str
    referrer_code: str | None
    language: str
    site: str | None
    site_name: str | None
    first_name: str | None
    phone: str | None
    email: str | None
    contact_preference: str | None
    human_requested: bool
    profile: dict[str, Any]
    orientation: dict[str, Any]
    status: str
    history: tuple[StatusChange, ...]
    # Beyond its address's lead limit: kept, not sent anywhere until a counsellor releases it.
    held_at: datetime | None = None

    def full(self, admin_url: str | None) -> dict[str, Any]:
        """Everything a counsellor needs to call the person back."""
        return {
            **self._common(),
            "channel": self.channel,
            "language": self.language,
            "human_requested": self.human_requested,
            "contact": {
                "first_name": self.first_name,
                "preference": self.contact_preference,
                "phone": self.phone,
                "email": self.email,
            },
            "profile": self.profile,
            "orientation": self.orientation,
            "admin_url": admin_url,
        }

    def follow_up(self) -> dict[str, Any]:
        """What a referrer may know of the people it sent: where they stand, nothing personal."""
        programmes = self.orientation.get("programmes", [])
        return {
            **self._common(),
            "programmes": [{"id": p["id"], "fit": p["fit"]} for p in programmes],
        }

    def _common(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "referrer_code": self.referrer_code,
            "status": self.status,
            "status_history": [change.data() for change in self.history],
            "site": {"id": self.site, "name": self.site_name} if self.site else None,
        }


def deleted_data(lead_id: str, at: datetime) -> dict[str, Any]:
    return {"id": lead_id, "deleted_at": iso(at)}


def event_body(event_type: EventType, at: datetime, data: dict[str, Any]) -> str:
    """The exact JSON sent, signed and stored: compact, accents as they are."""
    document = {"type": event_type, "timestamp": iso(at), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
