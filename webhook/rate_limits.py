"""How often one address and one session may call the web chat API (a 429 beyond).

The web chat is open to strangers: without limits one script made hundreds of leads a
minute. The buckets themselves are in bot/limits.py; here is what HTTP adds to them: who the
client is (the socket peer, or behind a trusted reverse proxy its X-Forwarded-For) and a
429 with Retry-After and a message the page shows as it is.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from bot.limits import Clock, Rate, RateLimiter, RecentReplies, retry_after_header
from bot.settings import Settings
from flows.i18n import Language, text
from webhook.deps import LanguageDep, bearer_token

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: Request, trusted_proxies: tuple[Network, ...]) -> str:
    """The client's address: the socket peer, unless that peer is a trusted proxy.

    Then X-Forwarded-For is read from the right (each proxy appends the address it saw) and
    the first address that is not itself a trusted proxy is the client's. A header from an
    untrusted peer is ignored: anyone can write one.
    """
    peer = request.client.host if request.client else ""
    if not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    forwarded = [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
    ]
    for hop in reversed(forwarded):
        if not _within(hop, trusted_proxies):
            # A malformed hop is not an address: the nearest proxy stands for the client.
            return hop if _is_address(hop) else peer
    return peer


def address_key(address: str) -> str:
    """What a bucket counts: an IPv4 address, or an IPv6 address's /64 network.

    One IPv6 subscriber commonly holds a whole /64: per address, one home would be 2^64
    strangers.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _within(value: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)


@dataclass
class ChatLimits:
    """The web chat's buckets for one process: inputs and polls, by address and by session."""

    inputs_by_address: RateLimiter
    inputs_by_session: RateLimiter
    polls_by_address: RateLimiter
    polls_by_session: RateLimiter
    # The last reply of each session, for an input re-sent at once (a double tap, a retry).
    replies: RecentReplies[Any]
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> ChatLimits:
        def per_minute(count: int) -> RateLimiter:
            return RateLimiter(Rate(count, 60.0), clock=clock)

        return cls(
            inputs_by_address=per_minute(settings.chat_address_per_minute),
            inputs_by_session=per_minute(settings.chat_session_per_minute),
            polls_by_address=per_minute(settings.poll_address_per_minute),
            polls_by_session=per_minute(settings.poll_session_per_minute),
            replies=RecentReplies(settings.chat_repeat_seconds, clock=clock),
            trusted_proxies=settings.trusted_proxy_networks,
        )


def chat_limits(request: Request) -> ChatLimits:
    limits: ChatLimits = request.app.state.chat_limits
    return limits


def _refuse(wait: float, language: Language) -> HTTPException:
    seconds = retry_after_header(wait)
    return HTTPException(
        status_code=429,
        detail={
            "message": text("web.too_many_requests", language, seconds=seconds),
            "retry_after": int(seconds),
        },
        headers={"Retry-After": seconds},
    )


def session_key(request: Request) -> str | None:
    """The session a request names: its bearer token, checked later by the route.

    An invented token only spends its own bucket (and its address's), then gets a 401.
    """
    token = bearer_token(request.headers.get("authorization"))
    return token[:256] if token else None


def _take(
    request: Request,
    language: Language,
    limits: ChatLimits,
    *,
    by_address: RateLimiter,
    by_session: RateLimiter,
) -> str:
    """Refuse a request beyond its address's or its session's rate; the client's address key."""
    address = address_key(client_address(request, limits.trusted_proxies))
    session = session_key(request)
    wait = by_address.take(address)
    if not wait and session is not None:
        wait = by_session.take(session)
    if wait:
        raise _refuse(wait, language)
    return address


async def limit_chat_input(
    request: Request,
    language: LanguageDep,
    limits: Annotated[ChatLimits, Depends(chat_limits)],
) -> str:
    """Refuse an input beyond its address's or its session's rate; the client's address key."""
    return _take(
        request,
        language,
        limits,
        by_address=limits.inputs_by_address,
        by_session=limits.inputs_by_session,
    )


async def limit_chat_poll(
    request: Request,
    language: LanguageDep,
    limits: Annotated[ChatLimits, Depends(chat_limits)],
) -> None:
    """The page asks for a counsellor's messages every few seconds: a looser rate."""
    _take(
        request,
        language,
        limits,
        by_address=limits.polls_by_address,
        by_session=limits.polls_by_session,
    )


ClientAddressDep = Annotated[str, Depends(limit_chat_input)]
PollLimitDep = Annotated[None, Depends(limit_chat_poll)]
