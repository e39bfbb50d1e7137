"""The stream worker, in parts: `stream` (admission, handling through the batch pipeline, ack,
give-back), `coalescer` (several streams' batches in one transaction), `gate` (priority work
first), `settings`, `reader` (one XREADGROUP over a group's streams: intake, partner updates, the urgent watch),
`reclaim` (pending entries claimed again) and `unknown` (intake streams of unknown sources)."""

from hub.runtime.worker.coalescer import Coalescer
from hub.runtime.worker.gate import Gate
from hub.runtime.worker.reader import Reading, read_forever
from hub.runtime.worker.reclaim import reclaim, reclaim_forever
from hub.runtime.worker.settings import Output, Pipeline, WorkerSettings
from hub.runtime.worker.stream import StreamWorker
from hub.runtime.worker.unknown import UnknownStreams

__all__ = [
    "Coalescer",
    "Gate",
    "Output",
    "Pipeline",
    "Reading",
    "StreamWorker",
    "UnknownStreams",
    "WorkerSettings",
    "read_forever",
    "reclaim",
    "reclaim_forever",
]
