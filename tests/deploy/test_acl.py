"""The Redis ACL file: exact grants per user (unit), and what a real Redis 7 lets each user do.

The integration half starts a throwaway `redis-server` (7.0 or newer: key selectors `%R~`/`%W~`
and `( ... )` need it) on a unix socket with the generated file as its `--aclfile`, and
connects as a school, a partner, the hub and nobody.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aredis
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError
from redis.retry import Retry
from typer.testing import CliRunner

from hub.config.registry import Partner, Registry, Source, default_registry_path, load_registry
from hub.entrypoints.cli.acl import app
from hub.policies import SourceKind
from hub.runtime.relay import XADD_ALL
from hub.runtime.stream_guard import Loss, LossWatch, create_groups, guarded, loss
from hub.schemas import streams
from hub.schemas.catalogue import Inputs, expand
from hub.schemas.decision import Structure
from hub.services.acl import acl_lines, acl_users, partner_user, render
from tests.deploy.redis_server import require_redis7, running_redis

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "redis" / "users.acl.example"
PLACEHOLDER = "#" + "0" * 64

SCHOOL, OTHER_SCHOOL, NO_PASSWORD_SCHOOL = "herstedlund-skole", "kongsholm-skole", "ungdomsskolen"

# Obviously fake test passwords; partner-bkv's is given as a hash to exercise that form.
PASSWORDS = {
    "hub": "test-hub-password-0001",
    SCHOOL: "test-school-password-0001",
    OTHER_SCHOOL: "test-school-password-0002",
    "politi-vestegn": "test-police-source-0001",
    "partner-politi-vestegn": "test-police-partner-0001",
    "partner-psykiatri": "test-psychiatry-partner-0001",
    "dke-triage": "test-triage-password-0001",
}
BKV_PASSWORD = "test-bkv-partner-password-0001"
PASSWORDS["partner-bkv"] = "#" + hashlib.sha256(BKV_PASSWORD.encode()).hexdigest()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(default_registry_path())


# --- parsing an ACL line into (command, access, key) grants --------------------------------


def _line_for(lines: list[str], user: str) -> str:
    [line] = [line for line in lines if line.split()[1] == user]
    return line


def _root(line: str) -> list[str]:
    return re.sub(r"\([^)]*\)", "", line).split()


def _grants(line: str) -> set[tuple[str, str, str]]:
    """Every (command, access, key) a selector of this line allows."""
    out: set[tuple[str, str, str]] = set()
    for selector in re.findall(r"\(([^)]*)\)", line):
        tokens = selector.split()
        commands = [t[1:] for t in tokens if t.startswith("+")]
        keys = [t for t in tokens if "~" in t]
        assert len(commands) + len(keys) == len(tokens), f"unexpected token in ({selector})"
        for key in keys:
            access, pattern = key.split("~", 1)
            access = {"": "RW", "%R": "R", "%W": "W", "%RW": "RW"}[access]
            out |= {(c, access, pattern) for c in commands}
    return out


def _expected_source(source_id: str) -> set[tuple[str, str, str]]:
    intake, receipts = streams.intake(source_id), streams.receipts(source_id)
    return (
        {("xadd", "W", intake)}
        | {(c, "R", receipts) for c in ("xread", "xreadgroup", "xrange", "xlen", "xinfo")}
        | {(c, "W", receipts) for c in ("xack", "xgroup|create")}
    )


def _expected_partner(keys: list[str]) -> set[tuple[str, str, str]]:
    return (
        {(c, "R", k) for c in ("xreadgroup", "xrange", "xinfo", "xpending") for k in keys}
        | {(c, "W", k) for c in ("xack", "xgroup|create") for k in keys}
        | {(c, "RW", k) for c in ("xclaim", "xautoclaim") for k in keys}
    )


# --- unit: the generated lines ----------------------------------------------------------------


def test_every_source_may_append_its_own_intake_and_read_its_own_receipts_only(registry: Registry) -> None:
    lines = acl_lines(registry, PASSWORDS)
    for source in registry.sources:
        line = _line_for(lines, source.id)
        assert _grants(line) == _expected_source(source.id), source.id
        # Outside the selectors: no keys, no channels, connection commands only.
        root = _root(line)
        assert not [t for t in root if "~" in t or t.startswith("&") or t in ("allkeys", "allchannels")]
        assert [t for t in root if t.startswith("+")] == [
            *("+ping", "+client|setname", "+client|getname", "+client|id"),
            *("+cluster|slots", "+cluster|shards", "+command"),  # a cluster client learns the slot map
        ]
        assert "-@all" in root


def test_the_decision_source_may_append_decisions_and_read_its_own_rejection_receipts(registry: Registry) -> None:
    receipts = streams.receipts("dke-triage")
    line = _line_for(acl_lines(registry, PASSWORDS), "dke-triage")
    assert _grants(line) == (
        {("xadd", "W", streams.DECISIONS)}
        | {(c, "R", receipts) for c in ("xread", "xreadgroup", "xrange", "xlen", "xinfo")}
        | {(c, "W", receipts) for c in ("xack", "xgroup|create")}
    )


def test_writers_hold_xadd_and_no_other_write_command(registry: Registry) -> None:
    """What a source or decision source writes it may only append to: no XTRIM, XDEL, XSETID, DEL."""
    writers = [*(s.id for s in registry.sources), *registry.decision_sources]
    lines = acl_lines(registry, PASSWORDS)
    for writer in writers:
        written = {key for c, _, key in _grants(_line_for(lines, writer)) if c == "xadd"}
        assert written, writer
        on_written = {c for c, _, key in _grants(_line_for(lines, writer)) if key in written}
        assert on_written == {"xadd"}, writer


@pytest.mark.parametrize(
    ("partner_id", "extra"),
    [
        ("politi-vestegn", [streams.POLICE_ALERTS]),
        ("bkv", [streams.CHILDREN_NOTIFICATIONS]),
        ("psykiatri", []),
        ("skoler", []),
        ("kriminalforsorgen", []),
        ("kultur-fritid", []),
    ],
)
def test_every_partner_consumes_its_own_streams_only(registry: Registry, partner_id: str, extra: list[str]) -> None:
    partner = registry.partner(partner_id)
    assert partner is not None
    line = _line_for(acl_lines(registry, PASSWORDS), partner_user(partner_id))
    keys = [streams.referrals(s.value, partner_id) for s in partner.structures] + extra
    keys.append(streams.referral_receipts(partner_id))  # the answers to its updates
    # It appends only to its own update stream (`hub.referral-updates.<id>.v1`).
    written = {("xadd", "W", streams.referral_updates(partner_id))}
    assert _grants(line) == _expected_partner(keys) | written


def test_no_client_user_has_a_wildcard_key_or_a_command_category(registry: Registry) -> None:
    for line in acl_lines(registry, PASSWORDS)[2:]:
        assert "*" not in line, line
        assert not re.search(r"\+@", line), line


def test_hub_reaches_hub_keys_without_administration(registry: Registry) -> None:
    line = _line_for(acl_lines(registry, PASSWORDS), "hub")
    tokens = line.split()
    assert [t for t in tokens if "~" in t] == ["~hub.*"]
    assert "-@dangerous" in tokens and "-@scripting" in tokens
    assert tokens.index("-@dangerous") > tokens.index("+@all")
    assert not [t for t in tokens if t.startswith("&") or t == "allchannels"]


def test_default_user_is_off_and_first(registry: Registry) -> None:
    first = acl_lines(registry, PASSWORDS)[0].split()
    assert first[:2] == ["user", "default"]
    assert "off" in first and "on" not in first and "nopass" not in first


def test_passwords_are_written_as_hashes_and_users_without_one_are_off(registry: Registry) -> None:
    lines = acl_lines(registry, PASSWORDS)
    text = render(lines)
    for user, secret in PASSWORDS.items():
        tokens = _line_for(lines, user).split()
        assert "on" in tokens and "off" not in tokens
        expected = secret if secret.startswith("#") else "#" + hashlib.sha256(secret.encode()).hexdigest()
        assert [t for t in tokens if t.startswith(("#", ">"))] == [expected]
        if not secret.startswith("#"):
            assert secret not in text
    tokens = _line_for(lines, NO_PASSWORD_SCHOOL).split()
    assert "off" in tokens and "resetpass" in tokens and "on" not in tokens
    assert not [t for t in tokens if t.startswith(("#", ">", "nopass"))]


def test_uppercase_hashes_are_normalised(registry: Registry) -> None:
    line = _line_for(acl_lines(registry, {"hub": "#" + "AB" * 32}), "hub")
    assert "#" + "ab" * 32 in line.split()


@pytest.mark.parametrize(
    ("passwords", "message"),
    [
        ({"default": "a-long-enough-password-1"}, "default"),
        ({"no-such-user": "a-long-enough-password-1"}, "no-such-user"),
        ({"hub": "short"}, "shorter"),
        ({"hub": "changeme-changeme-changeme"}, "placeholder"),
        ({"hub": "#abc"}, "64 hex"),
        ({"hub": "ab" * 32}, "without its '#'"),
    ],
    ids=["default-user", "unknown-user", "short", "placeholder", "malformed-hash", "bare-hash"],
)
def test_bad_passwords_are_refused(registry: Registry, passwords: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        acl_lines(registry, passwords)


def _registry(sources: list[str], partners: list[str]) -> Registry:
    return Registry(
        municipality="Testkommune",
        sources=tuple(Source(id=s, name=s, kind=SourceKind.SCHOOL) for s in sources),
        partners=tuple(
            Partner(id=p, name=p, kind=SourceKind.SCHOOL, structures=frozenset({Structure.SSP})) for p in partners
        ),
    )


@pytest.mark.parametrize(
    ("sources", "partners"),
    [(["hub"], []), (["default"], []), (["partner-skoler"], ["skoler"])],
    ids=["source-named-hub", "source-named-default", "source-shadows-partner"],
)
def test_user_name_clashes_are_refused(sources: list[str], partners: list[str]) -> None:
    with pytest.raises(ValueError, match="two ACL users"):
        acl_lines(_registry(sources, partners))


def test_the_committed_example_is_what_the_generator_writes(registry: Registry) -> None:
    placeholders = {u: PLACEHOLDER for u in acl_users(registry) if u != "default"}
    assert EXAMPLE.read_text(encoding="utf-8") == render(acl_lines(registry, placeholders)), (
        "deploy/redis/users.acl.example is stale: regenerate it (see deploy/README.md)"
    )


# --- unit: the command ------------------------------------------------------------------------


def test_generate_writes_the_file_and_names_the_users_left_off(tmp_path: Path, registry: Registry) -> None:
    pw = tmp_path / "passwords.toml"
    pw.write_text(f'hub = "{PASSWORDS["hub"]}"\n"partner-bkv" = "{PASSWORDS["partner-bkv"]}"\n')
    out = tmp_path / "users.acl"
    result = CliRunner().invoke(app, ["generate", "--passwords-file", str(pw), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == render(
        acl_lines(registry, {"hub": PASSWORDS["hub"], "partner-bkv": PASSWORDS["partner-bkv"]})
    )
    assert PASSWORDS["hub"] not in out.read_text()
    assert result.stdout == ""
    assert SCHOOL in result.stderr and "partner-bkv" not in result.stderr.split(":", 1)[-1]


def test_generate_prints_to_stdout_without_out(registry: Registry) -> None:
    result = CliRunner().invoke(app, ["generate"])
    assert result.exit_code == 0
    assert result.stdout == render(acl_lines(registry))


@pytest.mark.parametrize(
    ("content", "message"),
    [('nobody = "a-long-enough-password-1"\n', "nobody"), ("hub = 42\n", "not a string"), ("hub = \n", "cannot read")],
    ids=["unknown-user", "not-a-string", "bad-toml"],
)
def test_generate_refuses_a_bad_passwords_file(tmp_path: Path, content: str, message: str) -> None:
    pw = tmp_path / "passwords.toml"
    pw.write_text(content)
    result = CliRunner().invoke(app, ["generate", "--passwords-file", str(pw)])
    assert result.exit_code == 2
    assert message in result.stderr


# --- integration: a real Redis 7 loads the file and enforces it -------------------------------


@pytest.fixture(scope="module")
def acl_redis(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throwaway Redis 7 on a unix socket, loaded with the generated ACL file."""
    binary = require_redis7()
    work = tmp_path_factory.mktemp("acl")
    aclfile = work / "users.acl"
    aclfile.write_text(render(acl_lines(registry, PASSWORDS)))
    with running_redis(
        binary, work, "--dir", str(work), "--save", "", "--appendonly", "no", "--aclfile", str(aclfile)
    ) as socket:
        yield socket


def _connect(socket: Path, user: str | None = None, password: str | None = None) -> redis.Redis:
    # No retries: a refused login is the answer under test, not a fault to back off from.
    return redis.Redis(
        unix_socket_path=str(socket), username=user, password=password, socket_timeout=5, retry=Retry(NoBackoff(), 0)
    )


@pytest.fixture
def as_user(acl_redis: Path) -> Iterator[dict[str, redis.Redis]]:
    """Clients logged in as each user with a password, over a keyspace the hub user empties."""
    plain = {u: p for u, p in PASSWORDS.items() if not p.startswith("#")} | {"partner-bkv": BKV_PASSWORD}
    clients = {user: _connect(acl_redis, user, password) for user, password in plain.items()}
    hub = clients["hub"]
    yield clients
    for key in hub.scan_iter(match="hub.*"):
        hub.delete(key)
    for client in clients.values():
        client.close()


def _denied(call: object) -> None:
    assert callable(call)
    with pytest.raises(NoPermissionError):
        call()


@pytest.mark.integration
def test_nobody_gets_in_without_a_password(acl_redis: Path) -> None:
    with pytest.raises(AuthenticationError):
        _connect(acl_redis).ping()
    with pytest.raises(AuthenticationError):
        _connect(acl_redis, "default", "").ping()
    with pytest.raises(AuthenticationError):
        _connect(acl_redis, NO_PASSWORD_SCHOOL, "").ping()
    with pytest.raises(AuthenticationError):
        _connect(acl_redis, SCHOOL, "wrong-password-for-this-school").ping()


@pytest.mark.integration
def test_a_school_writes_only_its_own_intake(as_user: dict[str, redis.Redis]) -> None:
    school = as_user[SCHOOL]
    assert school.ping()
    assert school.xadd(streams.intake(SCHOOL), {"event": "{}"})
    _denied(lambda: school.xadd(streams.intake(OTHER_SCHOOL), {"event": "{}"}))
    _denied(lambda: school.xadd(streams.receipts(SCHOOL), {"event": "{}"}))
    _denied(lambda: school.xadd(streams.DECISIONS, {"event": "{}"}))
    _denied(lambda: school.xrange(streams.intake(SCHOOL)))  # cannot read back what it (or the HTTP API) sent
    _denied(lambda: school.set("hub.anything", "x"))
    assert as_user["hub"].xlen(streams.intake(SCHOOL)) == 1
    assert as_user["hub"].xlen(streams.intake(OTHER_SCHOOL)) == 0


@pytest.mark.integration
def test_a_school_consumes_its_own_receipts(as_user: dict[str, redis.Redis]) -> None:
    school, stream = as_user[SCHOOL], streams.receipts(SCHOOL)
    as_user["hub"].xadd(stream, {"event": '{"type":"receipt"}'})
    assert school.xgroup_create(stream, "school-app", id="0")
    [(name, [(entry_id, fields)])] = school.xreadgroup("school-app", "c1", {stream: ">"}, count=10)
    assert name.decode() == stream and fields == {b"event": b'{"type":"receipt"}'}
    assert school.xack(stream, "school-app", entry_id) == 1
    assert school.xlen(stream) == 1
    assert len(school.xrange(stream)) == 1
    assert school.xread({stream: "0"})
    assert school.xinfo_stream(stream)["length"] == 1


@pytest.mark.integration
def test_a_school_cannot_read_another_schools_receipts(as_user: dict[str, redis.Redis]) -> None:
    school, other = as_user[SCHOOL], streams.receipts(OTHER_SCHOOL)
    as_user["hub"].xadd(other, {"event": "{}"})
    as_user[OTHER_SCHOOL].xgroup_create(other, "other-app", id="0")
    _denied(lambda: school.xrange(other))
    _denied(lambda: school.xread({other: "0"}))
    _denied(lambda: school.xreadgroup("other-app", "c1", {other: ">"}))
    _denied(lambda: school.xgroup_create(other, "spy", id="0"))
    _denied(lambda: school.xlen(other))


@pytest.mark.integration
def test_a_partner_consumes_its_own_streams(as_user: dict[str, redis.Redis]) -> None:
    bkv, hub = as_user["partner-bkv"], as_user["hub"]
    referrals, children = streams.referrals("ssp", "bkv"), streams.CHILDREN_NOTIFICATIONS
    hub.xadd(referrals, {"event": '{"type":"referral"}'})
    hub.xadd(children, {"event": '{"type":"notification"}'})
    for stream in (referrals, children):
        assert bkv.xgroup_create(stream, "bkv-app", id="0")
    got = bkv.xreadgroup("bkv-app", "worker-1", {referrals: ">", children: ">"}, count=10)
    assert sorted(name.decode() for name, _ in got) == sorted([referrals, children])
    [(_, [(entry_id, _)])] = [g for g in got if g[0].decode() == referrals]
    assert bkv.xpending(referrals, "bkv-app")["pending"] == 1
    assert bkv.xclaim(referrals, "bkv-app", "worker-2", 0, [entry_id])
    assert bkv.xautoclaim(referrals, "bkv-app", "worker-3", 0)[1]
    assert bkv.xack(referrals, "bkv-app", entry_id) == 1
    assert bkv.xinfo_groups(referrals)[0]["pending"] == 0
    assert len(bkv.xrange(children)) == 1


@pytest.mark.integration
def test_a_partner_cannot_read_other_streams_or_write_any(as_user: dict[str, redis.Redis]) -> None:
    bkv, psych, police = as_user["partner-bkv"], as_user["partner-psykiatri"], as_user["partner-politi-vestegn"]
    hub = as_user["hub"]
    others = [
        streams.referrals("psp", "psykiatri"),
        streams.POLICE_ALERTS,
        streams.intake("bkv"),
        streams.receipts("bkv"),
        streams.DECISIONS,
    ]
    for stream in [*others, streams.referrals("ssp", "bkv")]:
        hub.xadd(stream, {"event": "{}"})
    for stream in others:
        _denied(lambda s=stream: bkv.xrange(s))
        _denied(lambda s=stream: bkv.xgroup_create(s, "bkv-app", id="0"))
    _denied(lambda: bkv.xadd(streams.referrals("ssp", "bkv"), {"event": "{}"}))  # no forged referrals
    _denied(lambda: bkv.xadd(streams.referral_updates("psykiatri"), {"event": "{}"}))  # another's updates
    _denied(lambda: bkv.xadd(streams.referral_receipts("bkv"), {"event": "{}"}))  # no forged receipts
    _denied(lambda: bkv.xadd(streams.intake("bkv"), {"event": "{}"}))  # the source user writes intake
    _denied(lambda: psych.xrange(streams.CHILDREN_NOTIFICATIONS))
    _denied(lambda: psych.xrange(streams.POLICE_ALERTS))
    assert len(police.xrange(streams.POLICE_ALERTS)) == 1
    _denied(lambda: as_user["politi-vestegn"].xrange(streams.POLICE_ALERTS))  # the source user is not the partner


@pytest.mark.integration
def test_a_partner_writes_updates_to_its_own_stream_only_and_reads_their_receipts(
    as_user: dict[str, redis.Redis],
) -> None:
    bkv, hub = as_user["partner-bkv"], as_user["hub"]
    own, receipts = streams.referral_updates("bkv"), streams.referral_receipts("bkv")
    assert bkv.xadd(own, {"event": "{}"})
    _denied(lambda: bkv.xrange(own))  # appends only: no reading back, no trimming
    _denied(lambda: bkv.xtrim(own, maxlen=0))
    _denied(lambda: bkv.xadd(streams.referral_updates("politi-vestegn"), {"event": "{}"}))
    hub.xadd(receipts, {"event": '{"type":"update.accepted"}'})
    assert bkv.xgroup_create(receipts, "bkv-app", id="0")
    [(_, [(entry_id, _)])] = bkv.xreadgroup("bkv-app", "c1", {receipts: ">"}, count=10)
    assert bkv.xack(receipts, "bkv-app", entry_id) == 1
    _denied(lambda: bkv.xrange(streams.referral_receipts("politi-vestegn")))
    assert hub.xlen(own) == 1


@pytest.mark.integration
def test_the_hub_reaches_hub_keys_but_not_the_server(as_user: dict[str, redis.Redis]) -> None:
    hub = as_user["hub"]
    intake = streams.intake(SCHOOL)
    as_user[SCHOOL].xadd(intake, {"event": "{}"})
    hub.xgroup_create(intake, streams.INTAKE_GROUP, id="0", mkstream=True)
    assert hub.xreadgroup(streams.INTAKE_GROUP, "hub-1", {intake: ">"}, count=10)
    assert hub.xautoclaim(intake, streams.INTAKE_GROUP, "hub-2", 0)[1]
    assert hub.xadd(streams.receipts(SCHOOL), {"event": "{}"})
    assert hub.set("hub.lock.test", "1")
    _denied(lambda: hub.set("not-hub", "1"))
    _denied(lambda: hub.flushall())
    _denied(lambda: hub.flushdb())
    _denied(lambda: hub.config_get("*"))
    _denied(lambda: hub.keys("*"))
    _denied(lambda: hub.acl_list())
    _denied(lambda: hub.eval("return 1", 0))
    _denied(lambda: hub.script_flush())
    _denied(lambda: hub.function_flush())


@pytest.mark.integration
def test_the_hub_runs_its_relay_script_on_its_own_keys_only(as_user: dict[str, redis.Redis]) -> None:
    hub = as_user["hub"]
    relay = hub.register_script(XADD_ALL)  # EVALSHA, and SCRIPT LOAD the first time
    assert relay(keys=[streams.receipts(SCHOOL), streams.POLICE_ALERTS], args=['{"n":1}', '{"n":2}']) == 2
    assert hub.xlen(streams.POLICE_ALERTS) == 1
    _denied(lambda: relay(keys=["not-hub"], args=["{}"]))


@pytest.mark.integration
def test_a_school_cannot_trim_or_delete_its_own_intake(as_user: dict[str, redis.Redis]) -> None:
    school, intake = as_user[SCHOOL], streams.intake(SCHOOL)
    first = school.xadd(intake, {"event": "{}"})
    as_user["hub"].xgroup_create(intake, streams.INTAKE_GROUP, id="0")
    _denied(lambda: school.xtrim(intake, maxlen=0, approximate=False))
    _denied(lambda: school.xtrim(intake, minid="9999999999999-0"))
    _denied(lambda: school.xdel(intake, first))
    _denied(lambda: school.execute_command("XSETID", intake, "9999999999999-0"))
    _denied(lambda: school.delete(intake))
    _denied(lambda: school.unlink(intake))
    _denied(lambda: school.expire(intake, 1))
    _denied(lambda: school.rename(intake, "hub.intake.elsewhere.v1"))
    _denied(lambda: school.xgroup_destroy(intake, streams.INTAKE_GROUP))
    _denied(lambda: school.xgroup_setid(intake, streams.INTAKE_GROUP, "$"))
    _denied(lambda: school.xack(intake, streams.INTAKE_GROUP, first))
    _denied(lambda: school.eval("return redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)", 1, intake))
    _denied(lambda: school.fcall("anything", 1, intake))
    assert as_user["hub"].xlen(intake) == 1


@pytest.mark.integration
def test_decision_source_appends_decisions_and_reads_only_its_own_receipts(as_user: dict[str, redis.Redis]) -> None:
    triage, hub = as_user["dke-triage"], as_user["hub"]
    assert triage.xadd(streams.DECISIONS, {"event": "{}"})
    hub.xadd(streams.receipts("dke-triage"), {"event": "{}"})
    hub.xadd(streams.receipts(SCHOOL), {"event": "{}"})
    assert len(triage.xrange(streams.receipts("dke-triage"))) == 1
    _denied(lambda: triage.xrange(streams.receipts(SCHOOL)))
    _denied(lambda: triage.xrange(streams.DECISIONS))
    _denied(lambda: triage.xtrim(streams.DECISIONS, maxlen=0))
    _denied(lambda: triage.xadd(streams.intake(SCHOOL), {"event": "{}"}))


@pytest.mark.integration
async def test_xadd_maxlen_cannot_be_refused_but_the_hub_counts_what_it_deleted(
    as_user: dict[str, redis.Redis], acl_redis: Path
) -> None:
    """Redis 7 ACLs grant XADD with all its arguments (key spec `RW update`): a school can trim
    its own intake with `XADD ... MAXLEN`/`MINID`. If this starts to fail, Redis learnt to refuse
    it: tighten the grants and keep the check. Until then the hub's check counts exactly what was
    deleted before it was processed, read-but-unacked entries too."""
    school, hub, intake = as_user[SCHOOL], as_user["hub"], streams.intake(SCHOOL)
    async_hub = aredis.Redis(unix_socket_path=str(acl_redis), username="hub", password=PASSWORDS["hub"])
    catalogue = expand(Inputs(sources=(SCHOOL,)))
    await create_groups(async_hub, catalogue)  # as the hub does at start, as the hub user
    for n in range(10):
        school.xadd(intake, {"event": f'{{"n":{n}}}'})
    hub.xreadgroup(streams.INTAKE_GROUP, "hub-1", {intake: ">"}, count=3)  # 3 pending, then the process dies
    assert school.xadd(intake, {"event": "{}"}, maxlen=1, approximate=False)  # allowed, and it trims
    assert school.xadd(intake, {"event": "{}"}, minid="0-1")  # MINID is allowed as well
    assert hub.xlen(intake) == 2

    watch = LossWatch(async_hub, guarded(catalogue))
    [found] = await watch.check()
    assert (found.stream, found.group, found.unread, found.pending) == (intake, streams.INTAKE_GROUP, 7, 3)
    assert await watch.check() == []  # logged once
    hub.xreadgroup(streams.INTAKE_GROUP, "hub-1", {intake: ">"}, count=10)
    assert (await loss(async_hub, intake, streams.INTAKE_GROUP)) == Loss(intake, streams.INTAKE_GROUP, 7, 3)
    await async_hub.aclose()


@pytest.mark.integration
def test_a_function_cannot_give_a_source_an_append_only_entry_point(tmp_path: Path) -> None:
    """Why the hub does not load an append-only FUNCTION for sources: Redis checks the commands a
    function runs against the caller's ACL, and FCALL needs read and write on the key, so a
    source could FCALL the function only if it could also XADD (with MAXLEN) itself."""
    binary = require_redis7()
    aclfile = tmp_path / "users.acl"
    aclfile.write_text(
        "user default off\n"
        "user admin on >admin-password-0001 ~* +@all\n"
        "user fn-only on >fn-only-password-0001 resetchannels -@all (+fcall ~in.s)\n"
        "user fn-write on >fn-write-password-0001 resetchannels -@all (+fcall %W~in.s)\n"
    )
    with running_redis(binary, tmp_path, "--save", "", "--appendonly", "no", "--aclfile", str(aclfile)) as socket:
        admin = _connect(socket, "admin", "admin-password-0001")
        admin.function_load(
            "#!lua name=hubtest\nredis.register_function('append', function(keys, args) "
            "return redis.call('XADD', keys[1], '*', 'event', args[1]) end)"
        )
        with pytest.raises(ResponseError, match="can't run this command"):
            _connect(socket, "fn-only", "fn-only-password-0001").fcall("append", 1, "in.s", "{}")
        _denied(lambda: _connect(socket, "fn-write", "fn-write-password-0001").fcall("append", 1, "in.s", "{}"))
        assert admin.exists("in.s") == 0
        admin.close()
