"""The hub's metrics: every one declared here, once, named `hub_…`.

Like `hub.logs`, a foundation module: the layer that observes a fact counts it here, and the
HTTP API exports the registry (Prometheus text format). Labels carry only stable codes, stream
kinds and configured ids (source ids, group names): never personal data, never a name an
outside party chose (an unknown intake stream is counted, not named).

A process has one registry (`REGISTRY`, prometheus-client's default): each `hub serve` process
is scraped on its own, as Prometheus expects of a multi-process service.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
# Statutory clocks (`hub.services.deadlines`), by kind (assessment, receipt): counted once per
# clock and stage, by the process whose transaction fired it.
DEADLINES_APPROACHING = Counter(
    "hub_deadlines_approaching",
    "Statutory deadlines that came near unmet (deadline.approaching sent to DKE), by kind (assessment, receipt).",
    ["kind"],
)
DEADLINES_BREACHED = Counter(
    "hub_deadlines_breached",
    "Statutory deadlines that passed unmet (deadline.breached sent to DKE), by kind (assessment, receipt).",
    ["kind"],
)
for _kind in ("assessment", "receipt"):  # exported from the start, at 0: a rate has a series to start from
    DEADLINES_APPROACHING.labels(_kind)
    DEADLINES_BREACHED.labels(_kind)

# Reports by the kind of the configured source that sent them (school, police, ...; the
# registry's `kind`, never the source's own id): what an operator asks of the intake first.
REPORTS_RECEIVED = Counter(
    "hub_reports_received",
    "Intake entries in committed transactions (each answered: accepted, rejected, duplicate or dead-lettered) "
    "and reports refused at once over HTTP, by source kind.",
    ["source_kind"],
)
REPORTS = Counter(
    "hub_reports",
    "Intake entries answered, by source kind and outcome (accepted, rejected, duplicate, dead_lettered); "
    "HTTP refusals count as rejected.",
    ["source_kind", "outcome"],
)
REPORT_REJECTIONS = Counter(
    "hub_report_rejections",
    "Intake entries refused or set aside, and reports refused at once over HTTP (401: `unauthorized`, source kind "
    "`unknown`), by source kind and stable code.",
    ["source_kind", "code"],
)
DEAD_LETTERS = Counter(
    "hub_dead_letters",
    "Dead-letter records the workers stored (kept whole in the database, redacted on hub.deadletter.v1), "
    "by stream kind and reason (a rejection code, max_deliveries, processing_failed, unknown_source).",
    ["kind", "reason"],
)

# Latency. Buckets from a few milliseconds (one small batch, SQLite) to a minute (a backlog).
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_SECONDS = Histogram(
    "hub_batch_duration_seconds",
    "Time a worker took to store, publish and ack one batch, by worker (intake, decisions, urgent_watch) "
    "and lane (bulk, urgent).",
    ["worker", "lane"],
    buckets=_SECONDS,
)
BATCH_AGE_SECONDS = Histogram(
    "hub_batch_oldest_entry_age_seconds",
    "Age of a batch's oldest entry (from its stream entry id's time) when the batch was acked: waiting plus "
    "processing, one observation per batch.",
    ["worker", "lane"],
    buckets=_SECONDS,
)
URGENT_ALERT_SECONDS = Histogram(
    "hub_urgent_alert_latency_seconds",
    "From an urgent (§ 141, planned crime) report's stream entry time to the commit of its police alert's "
    "outbox row, in the urgent lane.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Backlogs, sampled by the runtime's gauge task (`hub.runtime.gauges`) every few seconds.
GROUP_LAG = Gauge(
    "hub_stream_group_lag",
    "Entries in the stream the consumer group has not read yet (XINFO GROUPS lag), by stream and group.",
    ["stream", "group"],
)
GROUP_PENDING = Gauge(
    "hub_stream_group_pending",
    "Entries the consumer group read but has not acked (XINFO GROUPS pending), by stream and group.",
    ["stream", "group"],
)
OUTBOX_BACKLOG = Gauge(
    "hub_outbox_backlog",
    "Outbox rows not marked sent yet (those a worker published itself are marked by the relay's next pass).",
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "hub_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row not marked sent (0 when none is waiting).",
)


def report_refused_at_once(source_kind: str, code: str) -> None:
    """A report refused before it reached a stream (`POST /v1/reports`: 401, 413, 415, 422): in
    the same per-source-kind counters as the intake's refusals, so they add up the same way
    (received = accepted + rejected + duplicate + dead_lettered)."""
    REPORTS_RECEIVED.labels(source_kind).inc()
    REPORTS.labels(source_kind, "rejected").inc()
    REPORT_REJECTIONS.labels(source_kind, code).inc()


def stream_kind(stream: str) -> str:
    """The label for a stream: its family (`intake`, `decisions`, ...), never its full name."""
    parts = stream.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "hub" else "other"
