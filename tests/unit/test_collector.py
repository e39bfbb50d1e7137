"""A hub process's collector schedule (`hub.runtime.collector`): what exists at start is out of
the collector's sight, young collections run less often, and cycles made later are still freed.
In a process of its own: what is frozen stays frozen."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from hub.runtime import collector

PROBE = textwrap.dedent(
    """
    import gc, json
    from hub.runtime import collector

    default = gc.get_threshold()
    collector.settle()
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()

    class Node:
        pass

    for _ in range(200_000):  # cycles, as a report's objects never make: only the collector frees them
        a, b = Node(), Node()
        a.other, b.other = b, a
    del a, b
    left = sum(isinstance(o, Node) for o in gc.get_objects())
    print(json.dumps({"default": default, "frozen": frozen, "threshold": threshold, "left": left}))
    """
)


def test_settle_freezes_what_exists_and_later_cycles_are_still_collected() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True, timeout=60)
    seen = json.loads(done.stdout.splitlines()[-1])  # after the log line
    assert seen["frozen"] > 10_000  # the modules and objects of a started process
    assert seen["threshold"] == [collector.YOUNG_THRESHOLD, *seen["default"][1:]]
    # Of 400,000 objects in cycles, at most a few young generations' worth are still there.
    assert seen["left"] < 4 * collector.YOUNG_THRESHOLD
