"""The hub's metrics: every one declared here, once, named `hub_…`.

Like `hub.logs`, a foundation module: the layer that observes a fact counts it here, and the
HTTP API exports the registry (Prometheus text format). Labels carry only stable codes, stream
kinds and configured ids (source ids, group names): never personal data, never a name an
outside party chose (an unknown intake stream is counted, not named).

A process has one registry (`REGISTRY`, prometheus-client's default): each `hub serve` process
is scraped on its own, as Prometheus expects of a multi-process service.
"""

from __future__ import annotations

from prometheus_client import Counter

ENTRIES = Counter(
    "hub_entries",
    "Stream entries the hub answered, by stream kind (intake, decisions) and outcome "
    "(accepted, rejected, duplicate, dead_lettered).",
    ["kind", "outcome"],
)
REJECTIONS = Counter(
    "hub_rejections",
    "Entries refused or set aside, by stream kind and stable code (the receipt's and dead letter's code).",
    ["kind", "code"],
)
UNKNOWN_INTAKE_ENTRIES = Counter(
    "hub_unknown_intake_entries",
    "Entries on hub.intake.*.v1 streams of sources the registry does not know, dead-lettered (unknown_source).",
)
ENTRIES_DELETED_UNPROCESSED = Counter(
    "hub_entries_deleted_unprocessed",
    "Entries deleted from a stream (XADD MAXLEN/MINID, XTRIM) before the hub's group processed them.",
    ["group"],
)


def stream_kind(stream: str) -> str:
    """The label for a stream: its family (`intake`, `decisions`, ...), never its full name."""
    parts = stream.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "hub" else "other"
