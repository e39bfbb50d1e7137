"""The log filter drops psycopg's note about a pipeline that ended on an error already raised,
and nothing else of psycopg's; a token's fingerprint is logged whole, even where it has ten
digits in a row, and a CPR number is masked everywhere else."""

from __future__ import annotations

import io
import logging

from hub.logs import configure, redact


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


def test_a_token_fingerprint_with_ten_digits_in_a_row_is_logged_whole() -> None:
    event = {"event": "token.revoked", "token_id": "6e4317933750", "source_id": "skole 0102031234"}
    logged = redact(None, "info", dict(event))
    assert logged["token_id"] == "6e4317933750"  # the id the operator looks for
    assert logged["source_id"] == "skole [cpr]"
    not_a_fingerprint = redact(None, "info", {"event": "token.revoked", "token_id": "0102031234"})
    assert not_a_fingerprint["token_id"] == "[cpr]"
