"""Login limits: failed logins counted per client address and per account, with `limits`.

The counters live where `RATE_LIMIT_STORAGE_URL` says: `memory://` keeps them in this
process (development, tests, a single process); `redis://host:6379/0` shares them between
every process and replica, and keeps them across restarts.
"""

import hashlib
import logging
import math
import time

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import Settings

logger = logging.getLogger(__name__)


class LoginLimits:
    """Budgets of failed logins, in a moving window: one per client address (`per_client`)
    and one per account, the lowercased email (`per_account`).

    Only failures count, so people who share an address (an office, a proxy) do not use up
    each other's budget by logging in. Once either budget is spent, every login for that
    client, or for that account from anywhere, answers 429 until its oldest failure leaves
    the window: even with the right password, and the same whether the account exists or
    not. Logins already being checked when a budget runs out still finish, so a burst of
    simultaneous guesses can pass the limit by as many as the server checks at once.

    `limits`' storage and strategy are sync; they run in a worker thread, so that a Redis
    round trip never blocks the event loop.
    """

    def __init__(self, storage_url: str, per_client: str, per_account: str) -> None:
        self.per_client: RateLimitItem = parse(per_client)
        self.per_account: RateLimitItem = parse(per_account)
        self.storage = storage_from_string(storage_url)
        self._limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginLimits":
        return cls(
            settings.rate_limit_storage_url,
            per_client=settings.login_rate_limit,
            per_account=settings.login_account_rate_limit,
        )

    async def check(self, client: str, email: str) -> None:
        """Raise 429, with `Retry-After`, if the client or the account has no failures left."""
        wait = await run_in_threadpool(self._seconds_to_wait, client, email)
        if wait:
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail="Too many failed logins; try again later",
                headers={"Retry-After": str(wait)},
            )

    async def count_failure(self, client: str, email: str) -> None:
        await run_in_threadpool(self._count_failure, client, email)

    def reset(self) -> None:
        """Forget every count (tests start from a clean slate)."""
        self.storage.reset()

    def _budgets(self, client: str, email: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        # The account is named by a digest of its email: no address is written to the store.
        account = hashlib.sha256(email.lower().encode()).hexdigest()
        return [
            (self.per_client, ("login", "client", client)),
            (self.per_account, ("login", "account", account)),
        ]

    def _seconds_to_wait(self, client: str, email: str) -> int:
        now = time.time()
        waits = [
            stats.reset_time - now
            for item, key in self._budgets(client, email)
            if (stats := self._limiter.get_window_stats(item, *key)).remaining <= 0
        ]
        return max(1, math.ceil(max(waits))) if waits else 0

    def _count_failure(self, client: str, email: str) -> None:
        for item, key in self._budgets(client, email):
            self._limiter.hit(item, *key)


def warn_if_counted_per_process(settings: Settings) -> None:
    """In production, in-memory counters are almost certainly a mistake: say so once."""
    if settings.environment == "production" and settings.rate_limit_storage_url.startswith(
        "memory://"
    ):
        logger.warning(
            "RATE_LIMIT_STORAGE_URL is memory://: each server process keeps its own login "
            "counters, so the limits multiply with the number of processes and reset on "
            "restart. Point it at Redis (redis://host:6379/0) in production."
        )
