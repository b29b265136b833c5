"""POST /api/orient: the rules as a service for partners' tools."""

from __future__ import annotations

from fastapi import APIRouter

from flows.profile import Profile
from flows.rules import Orientation, orient
from webhook.deps import LanguageDep

router = APIRouter(tags=["orientation"])


@router.post(
    "/api/orient",
    response_model=Orientation,
    summary="Orient a profile toward PôleS's programmes",
    responses={422: {"description": "The profile is invalid; each error names its field."}},
)
async def orient_profile(profile: Profile, language: LanguageDep) -> Orientation:
    """Apply the pre-screening rules to a profile (see profile.md for both shapes)."""
    return orient(profile, language=language)
