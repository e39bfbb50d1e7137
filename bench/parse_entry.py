"""CPU per `parse_entry` of a typical report (`tests.factories`): 10,000 distinct entries,
several runs, the best and the median in µs. Compare branches by running it from each
worktree in turn: `python -m bench.parse_entry`."""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime

from hub.schemas.entry import Entry
from hub.services.envelope import ParsedReport, parse_entry
from tests.factories import cloudevent, report_data

SOURCE = "herstedlund-skole"


def main(runs: int = 7, count: int = 10_000) -> None:
    entries = [
        Entry(f"hub.intake.{SOURCE}.v1", f"{i}-0", {b"event": json.dumps(cloudevent(SOURCE, report_data())).encode()})
        for i in range(count)
    ]
    now = datetime.now(UTC)
    assert isinstance(parse_entry(entries[0], SOURCE, now, 1_000_000), ParsedReport)
    per_parse = []
    for _ in range(runs):
        start = time.process_time()
        for entry in entries:
            parse_entry(entry, SOURCE, now, 1_000_000)
        per_parse.append((time.process_time() - start) / count * 1e6)
    print(f"parse_entry: best {min(per_parse):.1f} µs, median {statistics.median(per_parse):.1f} µs per report")


if __name__ == "__main__":
    main()
