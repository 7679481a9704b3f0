"""The real moodfeed app under uvicorn in a background thread, on a loopback port: start, stop, restart."""

from __future__ import annotations

import threading
import time

import uvicorn

from service.config import Settings
from service.localserver import free_port
from service.main import create_app
from service.server import uvicorn_config


class LiveServer:
    """The real app under uvicorn in a background thread, on a free loopback port (or a given one)."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.port = port or free_port()
        settings = settings.model_copy(
            update={"host": "127.0.0.1", "port": self.port, "log_level": "warning"}
        )
        self.server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the moodfeed server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
