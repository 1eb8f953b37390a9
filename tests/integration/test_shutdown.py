"""Graceful shutdown: SIGTERM lets requests in flight finish, refuses new ones, closes the store."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import Server, client_factory

MiB = 1024 * 1024


def _refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


class SlowUpload(threading.Thread):
    """A presigned PUT whose body goes out in 1 MiB pieces; after `pause_after` pieces it waits
    for `resume` (the test's cue that the server stopped listening) before sending the rest."""

    def __init__(self, url: str, size: int, pause_after: int, resume: threading.Event):
        super().__init__(daemon=True)
        self.url, self.size, self.pause_after, self.resume = url, size, pause_after, resume
        self.started_body = threading.Event()
        self.body = os.urandom(size)
        self.status: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            parts = urlsplit(self.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            conn.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
            conn.putheader("Content-Length", str(self.size))
            conn.endheaders()
            for n, start in enumerate(range(0, self.size, MiB)):
                if n == self.pause_after:
                    self.started_body.set()
                    self.resume.wait(30)
                conn.send(self.body[start:start + MiB])
                time.sleep(0.05)  # a slow client: the whole body takes about a second or two
            self.started_body.set()
            response = conn.getresponse()
            response.read()
            self.status = response.status
            conn.close()
        except BaseException as e:  # reported by the test
            self.error = e
            self.started_body.set()


def test_sigterm_finishes_uploads_in_flight_then_closes_the_store(tmp_path, request):
    server = Server(tmp_path / "data").start()
    request.addfinalizer(server.stop)
    make = client_factory(server.endpoint)
    s3, ddb = make("s3"), make("dynamodb")
    s3.create_bucket(Bucket="shutdown")
    # Background timers that must stop with the server: S3 lifecycle and DynamoDB TTL.
    s3.put_bucket_lifecycle_configuration(Bucket="shutdown", LifecycleConfiguration={"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "old/"}, "Expiration": {"Days": 30}}]})
    ddb.create_table(TableName="ttl", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName="ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.put_item(TableName="ttl", Item={"pk": {"S": "a"}, "exp": {"N": str(int(time.time()) + 3600)}})

    resume = threading.Event()
    uploads = {key: SlowUpload(s3.generate_presigned_url("put_object", Params={"Bucket": "shutdown", "Key": key}),
                               size, pause_after, resume)
               for key, size, pause_after in (("big", 20 * MiB, 4), ("small-1", 2 * MiB, 1), ("small-2", 3 * MiB, 2))}
    for upload in uploads.values():
        upload.start()
    for upload in uploads.values():
        assert upload.started_body.wait(30)
    server.proc.terminate()
    deadline = time.time() + 30
    while not _refuses_connections(server.port) and time.time() < deadline:
        time.sleep(0.05)
    refused = _refuses_connections(server.port)
    resume.set()
    for upload in uploads.values():
        upload.join(60)
    assert refused, "the server kept accepting connections after SIGTERM"
    assert all(u.status == 200 for u in uploads.values()), {k: (u.status, u.error) for k, u in uploads.items()}
    assert server.proc.wait(30) == 0, server.log()
    server.stop()
    wal = Path(tmp_path / "data" / "state.sqlite3-wal")
    assert not wal.exists() or wal.stat().st_size == 0

    server.start()
    try:
        for key, upload in uploads.items():
            body = s3.get_object(Bucket="shutdown", Key=key)["Body"].read()
            assert hashlib.sha256(body).digest() == hashlib.sha256(upload.body).digest(), key
        assert ddb.get_item(TableName="ttl", Key={"pk": {"S": "a"}}).get("Item")
    finally:
        assert server.stop() == 0


def test_closing_the_runtime_stops_provider_timers(tmp_path):
    """Runtime.close stops the S3 lifecycle and DynamoDB TTL threads before closing the store."""
    from gureum.config import Settings
    from gureum.gateway.runtime import Runtime

    runtime = Runtime(Settings(data_dir=tmp_path / "data"))
    s3 = runtime.provider_by_name("s3")
    ddb = runtime.provider_by_name("dynamodb")
    s3._start_lifecycle()
    ddb._start_sweeper()
    threads = [s3._lifecycle_thread, ddb._sweeper]
    assert all(t.is_alive() for t in threads)
    runtime.close()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    wal = tmp_path / "data" / "state.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
