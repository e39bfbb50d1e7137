"""Redis Cluster in the tests: the cluster of `HUB_TEST_REDIS_CLUSTER_URL`
(`redis+cluster://HOST:PORT,...`; `.ci/run` starts three masters on loopback), like
PostgreSQL: a test on it is skipped if it is not set, and fails with `HUB_TEST_REQUIRE_ALL=1`.

A module whose tests must hold on a cluster too marks them `ON_CLUSTER_TOO`: each of its tests
runs once on the standalone Redis and once on the cluster (the `redis_kind` the `clean_redis`
fixture gives). A cluster has only database 0, so the runs that share one cluster must not
run at the same time."""

from __future__ import annotations

import os

import pytest

from tests.databases import REQUIRE_ALL

STANDALONE = "standalone"
CLUSTER = "cluster"
ON_CLUSTER_TOO = pytest.mark.parametrize("redis_kind", [STANDALONE, CLUSTER])


def cluster_url() -> str:
    """The test cluster's URL; skips the test if none is configured (fails it with
    `HUB_TEST_REQUIRE_ALL=1`)."""
    url = os.environ.get("HUB_TEST_REDIS_CLUSTER_URL")
    if url:
        return url
    if REQUIRE_ALL:
        pytest.fail("HUB_TEST_REDIS_CLUSTER_URL is not set but HUB_TEST_REQUIRE_ALL=1")
    pytest.skip("Redis Cluster not configured (set HUB_TEST_REDIS_CLUSTER_URL)")
