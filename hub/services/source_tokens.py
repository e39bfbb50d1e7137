"""Source tokens as `hub tokens` and the administrator's page change them: issue, rotate,
revoke (`hub.store.tokens.TokenStore`, the tokens file), each recorded in the administrators'
action log (`hub.store.admin_log`) with the token's id, never the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.store import admin_log
from hub.store.tokens import Issued, TokenRecord, TokenStore


def _log(engine: Engine, actor: str, action: str, source_id: str, token_id: str) -> None:
    with Session(engine) as session:
        admin_log.record(
            session, actor=actor, action=action, target=source_id, detail=f"token {token_id}", at=datetime.now(UTC)
        )
        session.commit()


def issue(store: TokenStore, engine: Engine, source_id: str, *, expires_in: timedelta | None, actor: str) -> Issued:
    issued = store.create(source_id, expires_in=expires_in)
    _log(engine, actor, admin_log.TOKEN_ISSUE, source_id, issued.record.id)
    return issued


def rotate(
    store: TokenStore, engine: Engine, source_id: str, *, grace: timedelta, expires_in: timedelta | None, actor: str
) -> tuple[Issued, list[TokenRecord]]:
    issued, old = store.rotate(source_id, grace=grace, expires_in=expires_in)
    _log(engine, actor, admin_log.TOKEN_ROTATE, source_id, issued.record.id)
    return issued, old


def revoke(store: TokenStore, engine: Engine, token_id: str, *, actor: str) -> TokenRecord:
    """Raises `UnknownToken`."""
    record = store.revoke(token_id)
    _log(engine, actor, admin_log.TOKEN_REVOKE, record.source_id, record.id)
    return record
