"""A stream entry as the hub reads it, before anything is known about its content."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as read: its id, its raw fields, and how often it was delivered."""

    stream: str
    entry_id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1

    @property
    def raw_bytes(self) -> bytes:
        """The entry's fields as one byte string, for dead-letter storage and hashing."""
        return b"\n".join(k + b"=" + v for k, v in sorted(self.fields.items()))
