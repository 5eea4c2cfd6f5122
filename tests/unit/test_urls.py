"""Redis URL parsing: every form dynoq accepts, and one-line errors naming the bad part."""

from __future__ import annotations

import pytest

from dynoq import ConfigError
from dynoq.core.urls import Topology, parse_redis_url


def test_standalone_forms_pass_through():
    for url in ["redis://h:6379/2", "rediss://user:pw@h:6380/0", "unix:///tmp/r.sock?db=1"]:
        target = parse_redis_url(url)
        assert target.topology is Topology.STANDALONE and target.url == url


def test_cluster_seed_nodes_and_credentials():
    target = parse_redis_url(
        "rediss+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001?socket_timeout=2"
    )
    assert target.topology is Topology.CLUSTER
    assert target.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001))
    assert (target.username, target.password, target.tls) == ("app", "s@cret", True)
    assert target.options == {"socket_timeout": "2"}


def test_sentinel_service_and_db():
    target = parse_redis_url("redis+sentinel://s1:26379,s2:26379/mymaster/3")
    assert target.topology is Topology.SENTINEL
    assert target.nodes == (("s1", 26379), ("s2", 26379))
    assert (target.service_name, target.db, target.tls) == ("mymaster", 3, False)


def test_embedded():
    assert parse_redis_url("embedded://").topology is Topology.EMBEDDED


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("http://h:1", "scheme 'http'"),
        ("localhost:6379", "must look like"),
        ("redis+cluster://h1:7000,h2", "node 'h2' must be host:port"),
        ("redis+cluster://h1:70x0", "bad port '70x0'"),
        ("redis+cluster://h1:99999", "bad port '99999'"),
        ("redis+cluster://h1:7000/2", "only database 0"),
        ("redis+sentinel://s1:26379", "names no service"),
        ("redis+sentinel://s1:26379/svc/abc", "database 'abc'"),
        ("redis+sentinel://s1:26379/svc/1/extra", "unexpected path part 'extra'"),
    ],
)
def test_bad_urls_name_the_bad_part(url, names):
    with pytest.raises(ConfigError) as err:
        parse_redis_url(url)
    assert names in str(err.value) and "\n" not in str(err.value)


def test_passwords_are_not_echoed_in_errors():
    with pytest.raises(ConfigError) as err:
        parse_redis_url("redis+cluster://u:topsecret@h1:7000/5")
    assert "topsecret" not in str(err.value)
