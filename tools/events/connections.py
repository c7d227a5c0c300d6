"""Deadlines and a size limit for every HTTP connection uvicorn accepts.

uvicorn times out only idle keep-alive connections: a client that trickles a request head or body a
byte at a time, or connects and sends nothing, holds its connection (and memory) for as long as it
likes. The event intake takes requests without an API key, so thousands of such clients cost
nothing to open. `bounded_protocol` wraps uvicorn's HTTP protocol (httptools or h11, whichever
uvicorn picks) so that each request's head and body must arrive within `request_read_timeout`
seconds of the connection being ready for it (opened, or done with the previous response), and a
head may not grow past `max_head_bytes`; otherwise the connection is closed. Once a request is read
the application may take as long as it needs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class _Bounded(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    request_read_timeout: float = 20.0
    max_head_bytes: int = 16 * 1024

    # Set per connection in `connection_made` (uvicorn builds one protocol object per connection).
    _deadline: asyncio.TimerHandle | None
    _awaited_after: Any  # the request cycle whose successor is being read (None: the first)
    _head_bytes: int

    def connection_made(self, transport: Any) -> None:
        self._deadline = None
        super().connection_made(transport)
        self._await_request(after=self.cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._after_input(len(data))

    def on_response_complete(self) -> None:
        answered = self.cycle
        super().on_response_complete()  # may start a pipelined request already received
        if self.transport.is_closing():
            self._cancel_deadline()
            return
        self._await_request(after=answered)
        self._after_input(0)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._cancel_deadline()  # the connection now belongs to the websocket protocol
        super().handle_websocket_upgrade(*args)

    # -- the deadline -----------------------------------------------------------------------------
    def _await_request(self, *, after: Any) -> None:
        self._cancel_deadline()
        self._awaited_after = after
        self._head_bytes = 0
        self._deadline = self.loop.call_later(self.request_read_timeout, self._deadline_passed)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _after_input(self, received: int) -> None:
        if self.transport.is_closing():
            self._cancel_deadline()
            return
        if self.cycle is self._awaited_after:  # no new request head yet
            previous = self._awaited_after
            # (Bytes after an early answer are the rest of the refused body, not a head.)
            if previous is None or not previous.more_body:
                self._head_bytes += received
                if self._head_bytes > self.max_head_bytes:
                    self._cancel_deadline()
                    self.transport.close()
        elif not self.cycle.more_body:
            self._cancel_deadline()  # the request is read; the application has it

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is self._awaited_after or (cycle.more_body and not cycle.response_complete):
            # The head or the body is still incomplete: the application sees a disconnect.
            self.transport.close()


def bounded_protocol(*, request_read_timeout: float, max_head_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with these limits (pass it as `uvicorn.Config(http=...)`)."""
    return type(
        "BoundedHTTPProtocol",
        (_Bounded,),
        {"request_read_timeout": float(request_read_timeout), "max_head_bytes": int(max_head_bytes)},
    )
