"""Requests from chosen client addresses, whatever HTTP client the strategy's `client` is.

`ClientAddress` wraps the app's middleware stack and sets the transport-level address
(ASGI `scope["client"]`, what a server puts there) of each request: test code only, not a
header the app trusts. It lives outside tests/routers/ because it is async for every
strategy.
"""


class ClientAddress:
    def __init__(self, app, host: str) -> None:
        self.app = app
        self.host = host  # change it between requests

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            scope = scope | {"client": (self.host, 50000)}
        await self.app(scope, receive, send)
