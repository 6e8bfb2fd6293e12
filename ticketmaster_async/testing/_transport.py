"""An ``httpx`` transport answering from a :class:`~._api.FakeDiscoveryAPI`, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._api import FakeDiscoveryAPI

__all__ = ["FakeTransport"]


class FakeTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` async transport answering from a :class:`FakeDiscoveryAPI`, in-process.

    Honours delays with *sleep* (``asyncio.sleep`` by default) and raises
    ``httpx.ReadTimeout`` when a delay exceeds the request's read timeout;
    :meth:`FakeDiscoveryAPI.drop_next` raises ``httpx.RemoteProtocolError``.
    """

    def __init__(
        self,
        api: FakeDiscoveryAPI,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer *request* (any host) from the fake."""
        await request.aread()
        answer = self.api.handle(
            request.method,
            request.url.path,
            request.url.params.multi_items(),
            dict(request.headers),
        )
        if answer.delay > 0:
            timeouts = request.extensions.get("timeout") or {}
            read_timeout = timeouts.get("read")
            if read_timeout is not None and answer.delay > read_timeout:
                await self._sleep(read_timeout)
                raise httpx.ReadTimeout("the fake API did not answer in time", request=request)
            await self._sleep(answer.delay)
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
        return httpx.Response(answer.status, headers=headers, content=answer.body, request=request)
