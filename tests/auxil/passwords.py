"""Password hashers for tests: cheap, counting their checks, or holding one until released.

Argon2 costs a quarter of a second a check by design; these keep admin tests fast and let
them see how many checks a sign-in makes, and what the service does while one runs.
"""

from __future__ import annotations

import hashlib
import hmac
import threading


class CountingHasher:
    """A fast stand-in for Argon2 (never for real passwords) that counts its verifications."""

    def __init__(self) -> None:
        self.verified = 0

    def hash(self, password: str) -> str:
        return "sha256$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password: str, hash: str) -> bool:
        self.verified += 1
        return hmac.compare_digest(self.hash(password), hash)


class HeldHasher(CountingHasher):
    """Each verification waits until the test releases it; ``started`` says one is waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def verify(self, password: str, hash: str) -> bool:
        self.started.set()
        # Bounded, so that a failing test ends instead of hanging the run.
        if not self.release.wait(timeout=10):
            raise TimeoutError("the test never released the verification")
        return super().verify(password, hash)
