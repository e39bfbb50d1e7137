"""Bad settings and configuration files: one line per problem (which `HUB_…` variable or file,
what is wrong, what to do), never pydantic's dump, never a password or a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bootstrap import Container, load_settings
from hub.errors import ConfigurationError, mask_secrets
from hub.logs import scrub
from tests.logcapture import LogCapture

REDIS_PASSWORD = "Rds-pw-7Qx2"
DATABASE_PASSWORD = "Db-pw-9Zk4"
REDIS_URL = f"redis://hub:{REDIS_PASSWORD}@redis.example:6379/0"
DATABASE_URL = f"postgresql://hub:{DATABASE_PASSWORD}@db.example:5432/hub"
PYDANTIC_DUMP = ("input_value", "errors.pydantic.dev", "validation error for", "type=")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    """Set `HUB_*` variables for one test (none of the caller's leak in)."""
    import os

    for name in [n for n in os.environ if n.startswith("HUB_")]:
        monkeypatch.delenv(name)

    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"HUB_{key.upper()}", value)

    return set_env


def problems() -> tuple[str, ...]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    return caught.value.lines


def assert_safe(text: str) -> None:
    assert REDIS_PASSWORD not in text and DATABASE_PASSWORD not in text
    for mark in PYDANTIC_DUMP:
        assert mark not in text, mark


def test_each_bad_setting_is_named_on_a_line_of_its_own_and_no_password_shows(env) -> None:
    env(
        env="production",
        redis_url=REDIS_URL,
        database_url=DATABASE_URL,
        http_port="eighty",
        max_body_bytes="5",
        urgent_watch="sometimes",
        relay_interval_s="-1",
    )
    lines = problems()
    assert [line.split(":")[0] for line in lines] == [
        "HUB_HTTP_PORT",
        "HUB_MAX_BODY_BYTES",
        "HUB_URGENT_WATCH",
        "HUB_RELAY_INTERVAL_S",
    ]
    port, size, watch, interval = lines
    assert "not a whole number" in port and "default (8000)" in port
    assert "too small" in size and "at least 1000" in size
    assert "one of inline, only, off" in watch
    assert "above 0" in interval
    assert_safe("\n".join(lines))


def test_bad_url_settings_are_named_without_their_passwords(env) -> None:
    """Both URL settings wrong, with passwords in them, beside a bad value elsewhere."""
    env(
        env="production",
        redis_url=f"http://hub:{REDIS_PASSWORD}@redis.example:6379",  # not a Redis URL
        database_url=f"postgresql://hub:{DATABASE_PASSWORD}changeme@db.example/hub",  # a placeholder in production
        log_json="sometimes",
    )
    lines = problems()
    assert [line.split(":")[0] for line in lines] == ["HUB_REDIS_URL", "HUB_DATABASE_URL", "HUB_LOG_JSON"]
    assert "not a Redis URL" in lines[0] and "placeholder" in lines[1] and "true or false" in lines[2]
    assert_safe("\n".join(lines))
    assert "changeme" not in "\n".join(lines)


def test_production_needs_both_urls(env) -> None:
    env(env="production")
    lines = problems()
    assert [line.split(":")[0] for line in lines] == ["HUB_REDIS_URL", "HUB_DATABASE_URL"]
    assert "production needs" in lines[0] and "PostgreSQL" in lines[1]


def test_good_settings_load_and_their_repr_hides_the_passwords(env) -> None:
    env(env="production", redis_url=REDIS_URL, database_url=DATABASE_URL, http_port="8080")
    settings = load_settings()
    assert settings.http_port == 8080 and settings.redis_url == REDIS_URL
    assert_safe(repr(settings) + str(settings))
    assert "redis://hub:***@redis.example:6379/0" in repr(settings)


@pytest.mark.parametrize(
    ("setting", "content", "expected"),
    [
        ("registry_file", "municipality = [", "is not valid TOML"),
        ("registry_file", 'municipality = "x"\nsources = [{id = "Bad Id!", name = "x", kind = "school"}]\n', "sources"),
        ("agreement_file", "name = 1\n", "hub policy check"),
    ],
    ids=["registry-toml", "registry-invalid", "agreement-invalid"],
)
def test_a_bad_configuration_file_names_its_setting_and_file(
    env, tmp_path: Path, setting: str, content: str, expected: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    env(data_dir=str(tmp_path / "data"), **{setting: str(bad)})
    container = Container.open(log_level="WARNING")
    with pytest.raises(ConfigurationError) as caught:
        _ = container.registry if setting == "registry_file" else container.agreement
    text = "\n".join(caught.value.lines)
    assert all(line.startswith(f"HUB_{setting.upper()}: ") for line in caught.value.lines)
    assert str(bad) in text and expected in text
    assert "input_value" not in text and "Bad Id!" not in text  # the file's values stay out


def test_a_missing_configuration_file(env, tmp_path: Path) -> None:
    env(data_dir=str(tmp_path / "data"), registry_file=str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigurationError, match=r"HUB_REGISTRY_FILE: cannot read .*No such file"):
        _ = Container.open(log_level="WARNING").registry


def test_an_unwritable_data_dir(env, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env(data_dir=str(blocker / "data"))
    with pytest.raises(ConfigurationError, match="HUB_DATA_DIR: cannot create"):
        Container.open(log_level="WARNING")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (REDIS_URL, "redis://hub:***@redis.example:6379/0"),
        (f"redis://:{REDIS_PASSWORD}@h/0", "redis://:***@h/0"),
        (f"Error at {DATABASE_URL}: refused", "Error at postgresql://hub:***@db.example:5432/hub: refused"),
        ("postgresql://hub:p@ss:w@rd@db/hub", "postgresql://hub:***@db/hub"),  # unencoded @ and : in it
        (f"host=db password={DATABASE_PASSWORD} user=hub", "host=db password=*** user=hub"),
        (f"redis://h:6379/0?password={REDIS_PASSWORD}&db=1", "redis://h:6379/0?password=***&db=1"),
        ("hub_herstedlund-skole_d5V0ltKLGYrOr4RXWpWeUDw_pnVF8eVa", "hub_herstedlund-skole_***"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ("unix:///data/redis.sock http://127.0.0.1:8000/v1", "unix:///data/redis.sock http://127.0.0.1:8000/v1"),
        ("hub_reports_received_total", "hub_reports_received_total"),
    ],
)
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_a_configuration_error_masks_what_it_is_given() -> None:
    exc = ConfigurationError(f"cannot reach {REDIS_URL}")
    assert REDIS_PASSWORD not in str(exc) and exc.lines == ("cannot reach redis://hub:***@redis.example:6379/0",)


def test_log_lines_mask_urls_and_tokens() -> None:
    from hub.logs import get_logger

    capture = LogCapture()
    capture.attach()
    try:
        get_logger("test").warning("redis.unavailable", url=REDIS_URL, error=f"connect to {DATABASE_URL} failed")
        get_logger("test").info("x", reason="hub_bkv_5N6KXSE3aWB35cUHmOohnd9nfE32r4_m")
    finally:
        capture.detach()
    assert_safe(capture.text)
    assert "5N6KXSE3aWB35cUHmOohnd9nfE32r4_m" not in capture.text
    assert "redis://hub:***@redis.example" in capture.text
    assert scrub(REDIS_URL) == "redis://hub:***@redis.example:6379/0"
