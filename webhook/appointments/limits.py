"""How often one address may open or answer appointment links (a 429 beyond).

A link's token cannot be guessed, but a script could still try: a few dozen tries a minute
from one address is more than any person needs and far too few to find a token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request

from bot.limits import Clock, Rate, RateLimiter
from bot.settings import Settings
from webhook.rate_limits import Network, address_key, client_address

PER_MINUTE = 20


@dataclass
class LinkLimits:
    by_address: RateLimiter
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> LinkLimits:
        return cls(
            RateLimiter(Rate(PER_MINUTE, 60.0), clock=clock), settings.trusted_proxy_networks
        )

    def wait(self, request: Request) -> float:
        """Spend one of the client's tries: 0 when allowed, else the seconds to wait."""
        return self.by_address.take(address_key(client_address(request, self.trusted_proxies)))
