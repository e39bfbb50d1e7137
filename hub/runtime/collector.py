"""The garbage collector's schedule in a process that runs one hub for its lifetime.

CPython's cyclic collector runs after every 700 net allocations of container objects, and the
older generations' collections walk every object the process holds: the modules, the settings,
SQLAlchemy's, pydantic's and FastStream's objects, some 170,000 of them, all living as long as
the process. A hub process allocates a few hundred dicts and strings per report (rows, events,
parsed documents), nearly all freed by their reference counts, so those collections found
little and cost much: 10 % of a bulk hub process's CPU in a benchmark run (the thread CPU time
between `gc.callbacks`' start and stop), 2 % with `settle` (`docs/performance.md`).
"""

from __future__ import annotations

import gc

from hub.logs import get_logger

log = get_logger("hub.runtime.collector")

# Young collections after this many allocations instead of 700: about a batch's worth, so most of
# a batch's objects are freed by their reference counts before a collection promotes them.
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Once the process has started: what exists now lives as long as the process, so it is
    moved out of the collector's sight (`gc.freeze`), and young collections run less often.
    Cycles made later are still found and freed. Only for a process's own hub (`hub serve`, the
    benchmark), not in a process that starts and stops hubs (the tests): what is frozen is never
    collected."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    log.info("gc.settled", frozen=gc.get_freeze_count())
