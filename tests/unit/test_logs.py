"""The log filter drops psycopg's note about a pipeline that ended on an error already raised,
and nothing else of psycopg's."""

from __future__ import annotations

import io
import logging

from hub.logs import configure


def test_only_the_pipeline_abort_note_of_psycopg_is_dropped() -> None:
    buffer = io.StringIO()
    configure(json=True, level="INFO")
    logging.getLogger().handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        psycopg_log = logging.getLogger("psycopg")
        psycopg_log.warning("error ignored terminating %r: %s", "<psycopg.Pipeline [INERROR]>", "pipeline aborted")
        psycopg_log.warning("connection lost")
        logging.getLogger("other").warning("error ignored terminating something")
    finally:
        configure(json=False, level="WARNING")
    logged = buffer.getvalue()
    assert "pipeline aborted" not in logged
    assert "connection lost" in logged and "error ignored terminating something" in logged
