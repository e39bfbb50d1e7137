"""The Redis Cluster form of `HUB_REDIS_URL`: `redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]`.

One URL names the whole deployment, so every hub process, CLI command and test reads it the
same way: the scheme says "cluster", the nodes are seeds (the client learns the rest of the
cluster from any one of them). `rediss+cluster://` is the same over TLS. A cluster has only
database 0, so a path other than `/` or `/0` is refused rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

SCHEMES = ("redis+cluster://", "rediss+cluster://")
EXAMPLE = "redis+cluster://HOST:7000,HOST:7001,HOST:7002 (a password goes before the first host: USER:PASSWORD@HOST)"


@dataclass(frozen=True)
class ClusterUrl:
    nodes: tuple[tuple[str, int], ...]  # seed nodes, in the order given
    username: str | None = None
    password: str | None = None
    ssl: bool = False

    def single_node_url(self) -> str:
        """A plain URL of the first seed (with the credentials): what FastStream's
        `RedisClusterBroker` parses, the other seeds passed beside it."""
        host, port = self.nodes[0]
        scheme = "rediss" if self.ssl else "redis"
        return f"{scheme}://{_userinfo(self.username, self.password)}{host}:{port}"


def is_cluster_url(url: str | None) -> bool:
    return url is not None and url.startswith(SCHEMES)


def parse_cluster_url(url: str) -> ClusterUrl:
    """The cluster's seeds and credentials. `ValueError` names what is wrong, never the URL
    (it may hold a password)."""
    scheme, _, rest = url.partition("://")
    if scheme + "://" not in SCHEMES:
        raise ValueError(f"not a Redis Cluster URL; set it like {EXAMPLE}")
    rest, _, query = rest.partition("?")
    if query:
        raise ValueError(f"a Redis Cluster URL takes no options after '?'; set it like {EXAMPLE}")
    netloc, _, path = rest.partition("/")
    if path not in ("", "0"):
        raise ValueError("a Redis Cluster has only database 0; leave the database out of the URL")
    userinfo, at, hosts = netloc.rpartition("@")
    username: str | None = None
    password: str | None = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    nodes: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, colon, port = item.strip().rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"every cluster node needs HOST:PORT; set it like {EXAMPLE}")
        nodes.append((host.strip("[]"), int(port)))
    return ClusterUrl(tuple(nodes), username, password, ssl=scheme == "rediss+cluster")


def _userinfo(username: str | None, password: str | None) -> str:
    if username is None and password is None:
        return ""
    secret = f":{quote(password, safe='')}" if password is not None else ""
    return f"{quote(username or '', safe='')}{secret}@"
