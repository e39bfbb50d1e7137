"""Bearer tokens for `POST /v1/reports`: one or more per source, with expiry and revocation.

Only SHA-256 hashes are stored (in `<data_dir>/tokens.toml`, or `HUB_TOKENS_FILE`), so the
file can be read by the hub without holding a usable secret; a token is printed once, when it
is made. Each token has an id, the first 12 hex digits of its hash: a fingerprint that is safe
to show and log (it tells nothing about the token), and that whoever holds a token can compute.

`hub tokens` writes the file (atomically, under a lock: `tokens.toml.lock` beside it); the
HTTP API's store notices a new file by one `stat` per request and reads it again, so a
revocation takes effect at the next request, without a restart. Every change is logged
(`token.issued`, `token.revoked`, `token.expiry_set`) with the source id and the token id, never the token.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError
from hub.logs import get_logger

log = get_logger("hub.store.tokens")

ID_LENGTH = 12
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One token as stored: its hash and what is known about it (times in UTC)."""

    id: str
    source_id: str
    sha256: str
    created: datetime | None = None  # None: written by an older hub, which kept no times
    expires: datetime | None = None
    revoked: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.revoked is not None and self.revoked <= now:
            return REVOKED
        if self.expires is not None and self.expires <= now:
            return EXPIRED
        return ACTIVE


@dataclass(frozen=True, slots=True)
class Issued:
    token: str  # shown once; never stored, never logged
    record: TokenRecord


class UnknownToken(LookupError):
    """No token has this id."""


def _toml_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _render(records: list[TokenRecord]) -> str:
    lines = [
        "# Bearer tokens for POST /v1/reports: SHA-256 hashes only. Written by `hub tokens`; the hub",
        "# reads it again when it changes. id: the hash's first 12 hex digits (safe to show and log).",
    ]
    for r in records:
        lines += ["", "[[tokens]]", f"id = {json.dumps(r.id)}", f"source = {json.dumps(r.source_id)}"]
        lines.append(f"sha256 = {json.dumps(r.sha256)}")
        for key, moment in (("created", r.created), ("expires", r.expires), ("revoked", r.revoked)):
            if moment is not None:
                lines.append(f"{key} = {_toml_time(moment)}")
    return "\n".join(lines) + "\n"


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValueError("a time is not a TOML date-time")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse(raw: dict[str, Any]) -> list[TokenRecord]:
    records = [
        TokenRecord(
            id=str(t["id"]),
            source_id=str(t["source"]),
            sha256=str(t["sha256"]),
            created=_time(t.get("created")),
            expires=_time(t.get("expires")),
            revoked=_time(t.get("revoked")),
        )
        for t in raw.get("tokens", [])
    ]
    # The first format: `[sources]` with a list of hashes per source, and nothing else.
    for source_id, hashes in raw.get("sources", {}).items():
        records += [TokenRecord(id=h[:ID_LENGTH], source_id=str(source_id), sha256=str(h)) for h in hashes]
    return records


class TokenStore:
    """The tokens file. `source_for` is what the HTTP API asks on each request; `issue`,
    `revoke`, `rotate` and `records` are `hub tokens`'."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None  # (mtime ns, size, inode) of what was read
        self._by_hash: dict[str, TokenRecord] = {}

    # --- reading ------------------------------------------------------------------------------

    def _read(self) -> tuple[tuple[int, int, int] | None, list[TokenRecord]]:
        try:
            with self.path.open("rb") as f:
                st = os.fstat(f.fileno())
                raw = tomllib.load(f)
        except FileNotFoundError:
            return None, []
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(
                f"HUB_TOKENS_FILE: cannot read {self.path} ({type(exc).__name__}); "
                "restore it, or move it away and issue new tokens with `hub tokens issue`"
            ) from None
        try:
            records = _parse(raw)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigurationError(
                f"HUB_TOKENS_FILE: {self.path} is not a tokens file (a token lacks id, source or sha256, or a "
                "time is not a date-time); restore it, or move it away and issue new tokens"
            ) from None
        return (st.st_mtime_ns, st.st_size, st.st_ino), records

    def records(self) -> list[TokenRecord]:
        """Every token in the file, oldest first (revoked and expired ones too)."""
        return self._read()[1]

    def _current(self) -> dict[str, TokenRecord]:
        """The tokens by hash, read again only when the file changed (one `stat` otherwise)."""
        try:
            st = os.stat(self.path)
            key: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            key = None
        if key != self._seen:
            try:
                key, records = self._read()
            except ConfigurationError as exc:
                # Refuse every token until the file is readable again (no request can pass on a
                # file that may have lost a revocation); logged once per version of the file.
                log.error("tokens.unreadable", error=exc.lines[0])
                records = []
            self._by_hash = {r.sha256: r for r in records}
            self._seen = key
        return self._by_hash

    def source_for(self, token: str, now: datetime | None = None) -> str | None:
        """The source a token belongs to, if it is neither revoked nor expired.

        Looked up by the token's SHA-256: how long the look-up takes can depend only on the
        hash of what was sent, which tells nothing about any valid token."""
        record = self._current().get(hash_token(token))
        if record is None or record.state(now or _now()) != ACTIVE:
            return None
        return record.source_id

    # --- changing (`hub tokens`) ----------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self) -> Iterator[list[TokenRecord]]:
        """The records to change in place, written back atomically (a temporary file renamed
        over the old one, mode 0600) under a lock that serialises concurrent `hub tokens`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self.records()
            yield records
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(_render(records))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def _new(self, source_id: str, now: datetime, expires_in: timedelta | None) -> Issued:
        token = f"hub_{source_id}_{secrets.token_urlsafe(24)}"
        digest = hash_token(token)
        expires = now + expires_in if expires_in is not None else None
        record = TokenRecord(id=digest[:ID_LENGTH], source_id=source_id, sha256=digest, created=now, expires=expires)
        return Issued(token, record)

    def create(self, source_id: str, *, expires_in: timedelta | None = None, now: datetime | None = None) -> Issued:
        """A new token for `source_id` (valid until `expires_in` from now, or until revoked)."""
        now = now or _now()
        with self._changing() as records:
            issued = self._new(source_id, now, expires_in)
            records.append(issued.record)
        _log_issued(issued.record)
        return issued

    def issue(self, source_id: str, *, expires_in: timedelta | None = None) -> str:
        """A new token for `source_id`, returned (only its hash is kept)."""
        return self.create(source_id, expires_in=expires_in).token

    def revoke(self, token_id: str, now: datetime | None = None) -> TokenRecord:
        """Revoke the token with this id (at once); revoking it again changes nothing.
        Raises `UnknownToken`."""
        now = now or _now()
        with self._changing() as records:
            i = next((i for i, r in enumerate(records) if r.id == token_id.strip().lower()), None)
            if i is None:
                raise UnknownToken(token_id)
            current = records[i]
            if current.revoked is None or current.revoked > now:
                records[i] = current = replace(current, revoked=now)
                log.info("token.revoked", source_id=current.source_id, token_id=current.id)
            return current

    def rotate(
        self, source_id: str, *, grace: timedelta, expires_in: timedelta | None = None, now: datetime | None = None
    ) -> tuple[Issued, list[TokenRecord]]:
        """A new token for `source_id`; the source's other valid tokens stay valid for `grace`
        (so the source can switch over), then expire; with no grace they are revoked at once."""
        now = now or _now()
        with self._changing() as records:
            issued = self._new(source_id, now, expires_in)
            old = []
            for i, r in enumerate(records):
                if r.source_id != source_id or r.state(now) != ACTIVE:
                    continue
                if grace <= timedelta(0):
                    records[i] = replace(r, revoked=now)
                elif r.expires is None or r.expires > now + grace:
                    records[i] = replace(r, expires=now + grace)
                old.append(records[i])
            records.append(issued.record)
        _log_issued(issued.record, reason="rotated")
        for r in old:
            if r.revoked is not None:
                log.info("token.revoked", source_id=r.source_id, token_id=r.id, reason="rotated")
            else:
                log.info("token.expiry_set", source_id=r.source_id, token_id=r.id, expires=_toml_time(r.expires or now))
        return issued, old


def _log_issued(record: TokenRecord, reason: str = "issued") -> None:
    expires = _toml_time(record.expires) if record.expires is not None else None
    log.info("token.issued", source_id=record.source_id, token_id=record.id, expires=expires, reason=reason)
