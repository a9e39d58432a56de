"""A transport that sends what an answer wrote in one system call.

Why: docs/decisions/0003-coalescing-transport.md."""

import asyncio
from typing import Any


class CoalescingTransport:
    """A transport that holds what is written to it until told to send, or the loop turn ends.

    The end of the turn is for a streamed response (server-sent events): its head and each
    event leave at the end of the turn that wrote them, without waiting for the next one.
    close() sends what is held first; abort() drops it."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self.send_held)
        self._held.append(data)

    def writelines(self, data: list[bytes]) -> None:
        for chunk in data:
            self.write(chunk)

    def send_held(self) -> None:
        """Send what is held, in one system call where the socket takes it all."""
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.writelines(held)

    def close(self) -> None:
        self.send_held()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def is_closing(self) -> bool:  # asked after every answer: spared the __getattr__ detour
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
