"""Redis ACL users for production, generated from the source and partner registry.

Which user may write or read which stream is the stream catalogue's writer and reader
columns (`hub.schemas.catalogue`). One user per source (named by its source id) may only
append to its own intake stream and read its own receipts; one per decision source (e.g.
`dke-triage`) may only append to the decision stream and read its own rejection receipts;
one user per partner (`partner-<id>`) may only consume its own referral streams, plus the
police-alert stream (police) or the child-welfare notification stream (social services), and
the receipts of its updates, and append its updates on referrals (and alerts) to its own
update stream;
the `hub` service user reaches every `hub.*` key but no server administration; the
`default` user is off, so every connection must log in.

A writer holds `XADD` and nothing else on what it writes: no `XTRIM`, `XDEL`, `XSETID`,
`DEL`. Redis 7 cannot refuse `XADD`'s own `MAXLEN`/`MINID` trimming to a user that may
`XADD` (see deploy/README.md); the hub notices such a trim (`hub.runtime.stream_guard`).

Rights are granted per stream with Redis 7 selectors, `(<commands> <key permissions>)`: a
command is allowed only on the keys of the selector that names it, so the `XADD` a school
holds for its intake stream cannot be aimed at its receipts or at another school's intake.
Inside a selector, `%R~` and `%W~` restrict which side of a key the commands may touch
(Redis derives the side from each command's key specs: `XREADGROUP` reads, `XADD` and `XACK`
write). `XCLAIM` and `XAUTOCLAIM` change group state and return entries, so they get both.

Passwords never appear in the output in clear: a plaintext password is written as its
SHA-256 hash (`#<hex>`), which Redis treats exactly like `><password>`. A user with no
password is written `off resetpass`: it exists, with its rights, but nobody can log in as it.

Redis ACL files have no comment syntax; explanations live in `deploy/README.md`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from hub.config.registry import Partner, Registry, Source
from hub.schemas.catalogue import DECISION_SOURCE, PARTNER, SOURCE, Catalogue, Party

DEFAULT_USER = "default"
HUB_USER = "hub"
PARTNER_PREFIX = "partner-"

# Every client user may check its connection and name it (redis-py, FastStream and most
# client libraries do on connect). AUTH, HELLO, QUIT and RESET need no grant. On a Redis
# Cluster a client first learns the slot map (CLUSTER SLOTS, or SHARDS in newer clients) and
# the command table (COMMAND: which arguments are keys); both only describe the server.
CLIENT_BASELINE = (
    *("ping", "client|setname", "client|getname", "client|id"),
    *("cluster|slots", "cluster|shards", "command"),
)

# A source on its receipts stream: read receipts (plainly or with its own consumer group).
SOURCE_RECEIPT_READ = ("xread", "xreadgroup", "xrange", "xlen", "xinfo")
SOURCE_RECEIPT_GROUP = ("xack", "xgroup|create")

# A partner on its streams: consume with its own consumer group and reclaim its pending entries.
PARTNER_READ = ("xreadgroup", "xrange", "xinfo", "xpending")
PARTNER_GROUP = ("xack", "xgroup|create")
PARTNER_CLAIM = ("xclaim", "xautoclaim")

# The hub itself: every command on its own keys except server administration (@dangerous:
# FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, SHUTDOWN, ACL, MONITOR, INFO, ...) and scripting
# (SCRIPT FLUSH / FUNCTION FLUSH act on the whole server), but for the one script the outbox
# relay runs: EVALSHA and SCRIPT LOAD. Commands inside a script are checked against these
# same rules, so the script reaches `hub.*` keys only. No EVAL of arbitrary text.
# No pub/sub channels: the hub speaks streams only.
HUB_RULES = ("~hub.*", "+@all", "-@dangerous", "-@scripting", "+evalsha", "+script|load")

_HASH = re.compile(r"^#[0-9a-fA-F]{64}$")
_BARE_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_GLOB = re.compile(r"[*?\[\]\\]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MIN_PASSWORD_LENGTH = 16
_PLACEHOLDERS = ("changeme", "change-me", "placeholder", "example")

Access = Literal["R", "W", "RW"]


@dataclass(frozen=True, slots=True)
class Grant:
    """Commands allowed on exact keys: one Redis 7 selector."""

    commands: tuple[str, ...]
    access: Access
    keys: tuple[str, ...]

    def selector(self) -> str:
        for key in self.keys:
            if _GLOB.search(key) or not key or " " in key:
                raise ValueError(f"stream name {key!r} is not a literal Redis key")
        perms = " ".join(f"%{self.access}~{key}" for key in self.keys)
        cmds = " ".join(f"+{c}" for c in self.commands)
        return f"({cmds} {perms})"


def partner_user(partner_id: str) -> str:
    """The ACL user name of a partner (partner ids may equal source ids, e.g. the police)."""
    return f"{PARTNER_PREFIX}{partner_id}"


def password_hash(plaintext: str) -> str:
    """The `#<sha256>` form Redis stores for a password."""
    return "#" + hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def writer_grants(catalogue: Catalogue, party: Party) -> list[Grant]:
    """A source or decision source: append to the streams it writes, consume the ones it reads.

    `XADD` only: no `XTRIM`, `XDEL`, `XSETID`, `DEL`, `UNLINK` or group commands on what it
    writes. Redis cannot refuse `XADD ... MAXLEN/MINID` to a user that may `XADD` at all
    (deploy/README.md); `hub.runtime.stream_guard` notices such a trim."""
    written, read = tuple(catalogue.written_by(party)), tuple(catalogue.read_by(party))
    grants = [Grant(("xadd",), "W", written)] if written else []
    if read:
        grants += [Grant(SOURCE_RECEIPT_READ, "R", read), Grant(SOURCE_RECEIPT_GROUP, "W", read)]
    return grants


def source_grants(source: Source, catalogue: Catalogue) -> list[Grant]:
    return writer_grants(catalogue, Party(SOURCE, source.id))


def partner_streams(partner: Partner, catalogue: Catalogue) -> tuple[str, ...]:
    """Its referral streams, and what its kind reads by law (police alerts, § 133 notifications)."""
    return tuple(catalogue.read_by(Party(PARTNER, partner.id)))


def partner_grants(partner: Partner, catalogue: Catalogue) -> list[Grant]:
    """Consume what it reads; append (only) to a stream the catalogue says it writes."""
    keys = partner_streams(partner, catalogue)
    written = tuple(catalogue.written_by(Party(PARTNER, partner.id)))
    grants = [Grant(("xadd",), "W", written)] if written else []
    if keys:
        grants += [
            Grant(PARTNER_READ, "R", keys),
            Grant(PARTNER_GROUP, "W", keys),
            Grant(PARTNER_CLAIM, "RW", keys),
        ]
    return grants


def acl_users(registry: Registry) -> list[str]:
    """Every user the ACL file defines, in file order."""
    return [
        DEFAULT_USER,
        HUB_USER,
        *(s.id for s in registry.sources),
        *sorted(registry.decision_sources),
        *(partner_user(p.id) for p in registry.partners),
    ]


def _check_names(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} cannot be a Redis ACL user name")
        if name in seen:
            raise ValueError(
                f"two ACL users would be called {name!r}: rename the source or partner "
                f"('{HUB_USER}', '{DEFAULT_USER}' and the '{PARTNER_PREFIX}' prefix are reserved)"
            )
        seen.add(name)


def _password_rule(user: str, secret: str) -> str:
    """`#<hex>` for a hash; a plaintext is hashed here so it never reaches the ACL file."""
    if _HASH.match(secret):
        return secret.lower()
    if secret.startswith("#"):
        raise ValueError(f"password for {user!r} starts with '#' but is not '#' + 64 hex digits")
    if _BARE_HEX.match(secret):
        raise ValueError(
            f"password for {user!r} looks like a SHA-256 hash without its '#': write '#{secret}' "
            "for a hash, or use a plaintext password that is not 64 hex digits"
        )
    if len(secret) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"password for {user!r} is shorter than {MIN_PASSWORD_LENGTH} characters; "
            "generate one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if any(p in secret.lower() for p in _PLACEHOLDERS):
        raise ValueError(f"password for {user!r} is a placeholder; generate a real one")
    return password_hash(secret)


def _line(name: str, secret: str | None, rules: Sequence[str]) -> str:
    # `reset` (off, no password, no keys, no channels, no commands) first: the line then means
    # the same in an ACL file and in ACL SETUSER, which is otherwise additive.
    login = ["on", _password_rule(name, secret)] if secret is not None else ["off", "resetpass"]
    return " ".join(["user", name, "reset", *login, "resetchannels", *rules])


def acl_lines(
    registry: Registry, passwords: Mapping[str, str] | None = None, *, catalogue: Catalogue | None = None
) -> list[str]:
    """The lines of a Redis 7 ACL file (`aclfile`) for this registry.

    `passwords` maps user names (`hub`, source and decision source ids, `partner-<id>`) to a plaintext password
    or a `#<sha256 hex>` hash. A user without one is emitted `off resetpass` (cannot log in).
    `catalogue`: the registry's stream catalogue unless given. Raises ValueError for a name
    clash, an unknown user or a weak or malformed password.
    """
    passwords = dict(passwords or {})
    names = acl_users(registry)
    _check_names(names)
    if DEFAULT_USER in passwords:
        raise ValueError("the 'default' user stays off: give passwords to named users only")
    unknown = sorted(set(passwords) - set(names))
    if unknown:
        raise ValueError(f"passwords given for users the registry does not define: {', '.join(unknown)}")

    client_base = ["-@all", *(f"+{c}" for c in CLIENT_BASELINE)]
    lines = [_line(DEFAULT_USER, None, ["-@all"]), _line(HUB_USER, passwords.get(HUB_USER), HUB_RULES)]
    catalogue = catalogue or registry.catalogue()
    writers = [Party(SOURCE, s.id) for s in registry.sources]
    writers += [Party(DECISION_SOURCE, d) for d in sorted(registry.decision_sources)]
    for writer in writers:
        selectors = [g.selector() for g in writer_grants(catalogue, writer)]
        lines.append(_line(writer.id, passwords.get(writer.id), [*client_base, *selectors]))
    for partner in registry.partners:
        name = partner_user(partner.id)
        selectors = [g.selector() for g in partner_grants(partner, catalogue)]
        lines.append(_line(name, passwords.get(name), [*client_base, *selectors]))
    return lines


def render(lines: Sequence[str]) -> str:
    """The ACL file's text: one user per line, newline-terminated."""
    return "".join(f"{line}\n" for line in lines)
