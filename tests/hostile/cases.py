"""What a corpus case is: the input (raw entry fields or an HTTP body and headers), the channels
it is sent on, and the answer it must get (a rejection code, or `accepted` for a control case).

Channels: `stream` (an intake stream, `hub.intake.<source>.v1`), `http` (`POST /v1/reports`),
`decisions` (`hub.decisions.v1`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.schemas import streams
from hub.schemas.messages import DANISH
from tests.hostile.builders import SCHOOL, event_id

STREAM, HTTP, DECISIONS = "stream", "http", "decisions"
ACCEPTED = "accepted"
# Codes of refusals that need a readable, well-formed document: the receipt must name its id.
SEMANTIC = frozenset(
    {"invalid_envelope", "invalid_report", "source_mismatch", "unknown_type", "unlawful_purpose", "unknown_offence",
     "time_out_of_range"}
)
# Every code the hub can answer with (receipts, dead letters, HTTP bodies): the keys of its
# Danish message table, which tests/unit/test_messages.py checks against the documented list.
KNOWN_CODES = frozenset(DANISH)
_CHANNELS = {"S": STREAM, "H": HTTP, "D": DECISIONS}


@dataclass(frozen=True)
class Case:
    id: str
    klass: str  # the class of issue #16 it belongs to (the evidence table groups by it)
    channels: frozenset[str]
    # Acceptable answers. One code where the table is unambiguous; two where the issue leaves the
    # order of checks open (a NUL in `source` is a control character and a source mismatch).
    codes: frozenset[str]
    body: bytes = b""
    fields: dict[bytes, bytes] | None = None  # raw entry fields; default `{event: body}`
    stream: str | None = None  # an intake stream other than the school's
    headers: dict[str, str] = field(default_factory=dict)  # HTTP headers besides the token
    token: bool = True  # HTTP: send the school's bearer token
    chunked: int = 0  # HTTP: send this many bytes chunked (no Content-Length) instead of `body`
    status: int | None = None  # HTTP status, when not the one the code implies
    event_id: str | None = None  # the receipt must name this event id
    own_batch: bool = False  # can take a whole batch down today: sent among good reports of its own
    receipt: bool = True  # the source gets a receipt (not so for streams of unknown sources)

    @property
    def accepted(self) -> bool:
        return self.codes == {ACCEPTED}

    @property
    def intake_stream(self) -> str:
        return self.stream or streams.intake(SCHOOL)

    def entry_fields(self) -> dict[bytes, bytes]:
        return self.fields if self.fields is not None else {b"event": self.body}

    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        if self.accepted:
            return 202
        if self.codes == {"too_large"}:
            return 413
        if self.codes == {"unsupported_media_type"}:
            return 415
        return 422


def case(
    id: str,
    klass: str,
    channels: str,
    codes: str | tuple[str, ...],
    body: bytes = b"",
    *,
    echo_id: bool | None = None,
    **options: object,
) -> Case:
    """A case; `channels` in letters (`SHD`: stream, HTTP, decisions). The receipt must name the
    case's event id when the document is well-formed (all its codes are `SEMANTIC` or it is a
    control case), unless `echo_id` says otherwise."""
    wanted = frozenset((codes,) if isinstance(codes, str) else codes)
    unknown = wanted - KNOWN_CODES - {ACCEPTED}
    assert not unknown, f"{id}: codes not in the table: {unknown}"
    if echo_id is None:
        echo_id = wanted <= SEMANTIC | {ACCEPTED} and f'"id": "{event_id(id)}"'.encode() in body
    return Case(
        id=id,
        klass=klass,
        channels=frozenset(_CHANNELS[c] for c in channels),
        codes=wanted,
        body=body,
        event_id=event_id(id) if echo_id else None,
        **options,  # type: ignore[arg-type]
    )
