"""Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread (tests, benchmarks, demo).

The listening socket is bound before the thread starts, so a client may connect at once: the
kernel queues the connection until uvicorn accepts it, and no start-up wait is needed.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn


class ServerThread:
    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        date_header: bool = True,
    ):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this. Without it, uvicorn's separate header and body writes meet
        # Nagle plus the client's delayed ACK and every keep-alive response stalls for ~40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((host, port))
        self.sock.listen(2048)
        self.host, self.port = self.sock.getsockname()[:2]
        # The sandbox sets `Date` from its own (adjustable) clock, so it turns uvicorn's header off.
        config = uvicorn.Config(
            app, log_level=log_level, lifespan="on", access_log=False, date_header=date_header
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
