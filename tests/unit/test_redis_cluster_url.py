"""`HUB_REDIS_URL=redis+cluster://...`: parsed into seeds and credentials, refused with one clear
line (never quoting the URL), and the commands over several keys split by hash slot."""

from __future__ import annotations

import pytest
import redis.asyncio as aredis
from redis.crc import key_slot

from hub.bootstrap import load_settings
from hub.config.redis_cluster import ClusterUrl, is_cluster_url, parse_cluster_url
from hub.errors import ConfigurationError
from hub.runtime.transport import redis_client, slot_groups


def test_a_cluster_url_names_every_seed_and_the_credentials() -> None:
    url = "redis+cluster://hub:s%40cret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002"
    assert is_cluster_url(url) and not is_cluster_url("redis://10.0.0.1:6379/0")
    assert parse_cluster_url(url) == ClusterUrl(
        (("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002)), username="hub", password="s@cret"
    )
    assert parse_cluster_url("rediss+cluster://h:1/0").ssl
    # What FastStream's cluster broker parses: the first seed with the credentials, the others beside it.
    assert parse_cluster_url(url).single_node_url() == "redis://hub:s%40cret@10.0.0.1:7000"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+cluster://hub:pw@h1:7000/3", "only database 0"),
        ("redis+cluster://hub:pw@h1:7000,h2", "HOST:PORT"),
        ("redis+cluster://hub:pw@h1:notaport", "HOST:PORT"),
        ("redis+cluster://hub:pw@h1:7000?ssl=true", "no options"),
    ],
)
def test_a_bad_cluster_url_is_one_line_naming_the_problem_not_the_password(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env="test", redis_url=url)
    [line] = [str(line) for line in caught.value.args]
    assert "HUB_REDIS_URL" in line and says in line and "pw" not in line


def test_a_server_keeps_its_multi_key_commands_whole_and_a_cluster_splits_them_by_slot() -> None:
    keys = ["hub.intake.politi-vestegn.v1", "hub.intake.bkv.v1", "hub.intake.politi-vestegn.v1"]
    assert len({key_slot(k.encode()) for k in keys}) == 2
    assert slot_groups(aredis.Redis(), keys) == [[0, 1, 2]]
    assert slot_groups(aredis.Redis(), []) == []
    cluster = redis_client("redis+cluster://127.0.0.1:1")  # not connected: slots are computed locally
    assert slot_groups(cluster, keys) == [[0, 2], [1]]  # in order, each stream's keys together
