"""`LogCapture`: the hub's JSON log lines of an in-process run, for tests that prove what is
(and is not) logged. The `captured_logs` fixture (tests/reliability/conftest.py) wraps it."""

from __future__ import annotations

import io
import logging

from hub.logs import configure


class LogCapture:
    """The hub's JSON log lines of an in-process run, as a worker process would write them."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def attach(self) -> None:
        """(Re)configure logging into the buffer (the CLI reconfigures logging when it runs)."""
        configure(json=True, level="DEBUG")
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(self.buffer)

    def detach(self) -> None:
        """Back to the console at WARNING, as the other tests expect."""
        configure(json=False, level="WARNING")

    @property
    def text(self) -> str:
        return self.buffer.getvalue()
