"""Per-client rate limits (moving window, in memory: one limiter per app process)."""

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse, storage, strategies


class RateLimit:
    """A dependency that answers 429 once a client exceeds `rate` (e.g. "5/minute")."""

    def __init__(self, name: str, rate: str) -> None:
        self.name = name
        self.rate: RateLimitItem = parse(rate)
        self._storage = storage.MemoryStorage()
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)

    def __call__(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not self._limiter.hit(self.rate, self.name, client):
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail="Too many attempts; try again later",
                headers={"Retry-After": str(self.rate.get_expiry())},
            )

    def reset(self) -> None:
        self._storage.reset()
