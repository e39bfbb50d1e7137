"""The stream worker, in parts: `stream` (admission, handling through the batch pipeline, ack,
give-back), `coalescer` (several streams' batches in one transaction), `gate` (priority work
first), `settings`, `reclaim` (pending entries claimed again), `watch` (the urgent watch's reader) and
`unknown` (intake streams of unknown sources)."""

from hub.runtime.worker.coalescer import Coalescer
from hub.runtime.worker.gate import Gate
from hub.runtime.worker.reclaim import reclaim, reclaim_forever
from hub.runtime.worker.settings import Output, Pipeline, WorkerSettings
from hub.runtime.worker.stream import StreamWorker
from hub.runtime.worker.unknown import UnknownStreams
from hub.runtime.worker.watch import watch_forever

__all__ = [
    "Coalescer",
    "Gate",
    "Output",
    "Pipeline",
    "StreamWorker",
    "UnknownStreams",
    "WorkerSettings",
    "reclaim",
    "reclaim_forever",
    "watch_forever",
]
