"""`hub demo --data-dir DIR` on the embedded default leaves the workspace ready for a new user: a
demo account that logs in with the printed password, and undecided reports in the queues."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.bootstrap import Container, load_settings
from hub.entrypoints.demo import run_demo
from hub.services.auth import PasswordAuthenticator
from hub.store import queries
from hub.store.staff import StaffView


async def test_demo_with_a_data_dir_prints_a_working_log_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d"
    assert await run_demo(str(data)) == 0
    out = capsys.readouterr().out
    found = re.search(r"Log ind som brugernavn: demo  adgangskode: (\S+)", out)
    assert found and "/arbejdsrum/" in out, out[-500:]
    container = Container(load_settings(data_dir=data, redis_url=None, database_url=None))
    try:
        who = PasswordAuthenticator(container.engine).authenticate("demo", found.group(1), datetime.now(UTC))
        assert isinstance(who, StaffView) and who.role == "triage"
        with queries.reading(container.engine) as session:
            assert len(queries.queue_rows(session)) == 3  # work waiting in the queues
    finally:
        container.close()
