"""Sustained load, 30 seconds: mixed S3 and DynamoDB traffic on a server of its own.

The long version is bench/soak.py (10 minutes, 16 clients, objects up to 64 MiB); this one
runs its workload with 8 clients and objects up to 8 MiB. Every read is verified against
what was written; no call may fail; memory may not grow without bound; deleting everything
at the end must leave no blob behind. And an idle keep-alive connection outlives the pauses
clients make between calls.
"""

from __future__ import annotations

import http.client
import sys
import time

from tests.conftest import ROOT, client_factory

sys.path.insert(0, str(ROOT / "bench"))

import soak  # noqa: E402

MIB = 1024 * 1024
SECONDS = 30
CLIENTS = 8
# Generous: the process may settle into caches and allocator arenas, but not keep growing.
RSS_GROWTH_BOUND = 150 * MIB


def test_sustained_mixed_load(own_server):
    factory = client_factory(own_server.endpoint)
    pid = own_server.proc.pid

    def make_client(service: str):
        return factory(service, connect_timeout=10, read_timeout=120, max_pool_connections=2)

    result = soak.soak(make_client, SECONDS, CLIENTS, 8 * MIB, rss=lambda: soak.proc_rss_bytes(pid),
                       cpu=lambda: soak.proc_cpu_seconds(pid), data_dir=own_server.data_dir,
                       bucket_seconds=10, multipart_above=6 * MIB, max_items=40,
                       big_every=5)
    summary = soak.render(result)
    assert result["errors"] == 0, summary
    families = result["families"]
    assert set(families) == set(soak.FAMILY.values()), summary
    # Every family ran (multipart uploads included), and every answer was checked against
    # what the client had written.
    for family in families.values():
        assert family["verified"] == family["calls"] > 0, summary
    assert result["blobs_after_cleanup"] == 0, summary
    assert result["rss_end_bytes"] < result["rss_start_bytes"] + RSS_GROWTH_BOUND, summary


def test_idle_connection_is_kept_for_the_next_call(own_server):
    """A client reuses its pooled connection after a pause of a few seconds. A server that had
    closed it by then races the next request, which fails (botocore: ConnectionClosedError)."""
    conn = http.client.HTTPConnection("127.0.0.1", own_server.port, timeout=10)
    conn.request("GET", "/_gureum/health")
    first = conn.getresponse()
    first.read()
    assert first.status == 200 and not first.will_close
    sock = conn.sock
    time.sleep(6)  # past the 5 s after which idle connections used to be closed
    conn.request("GET", "/_gureum/health")
    again = conn.getresponse()
    again.read()
    assert again.status == 200
    assert conn.sock is sock  # the same connection answered
    conn.close()
