"""S3 bulk data, side by side: big streams, multipart, ranged GETs, memory, listing.

    .venv/bin/python bench/s3_throughput.py [--size-mib 256] [--big-mib 1024] [--keys 100000]
                                            [--servers gureum,moto] [--skip memory,list]

Servers run one after the other, each from a fresh state directory. Bodies travel through
presigned URLs on plain http.client connections, 1 MiB at a time from one buffer, so the
client spends almost nothing and the figure is the server's (plus loopback). What is
measured:

- single-stream PUT and GET of one `--size-mib` object (MiB/s), and the server CPU per MiB;
- a multipart upload of the same size in 8 MiB parts, sent one after the other;
- ranged GETs of 8 MiB, 4 in flight, over the whole object (MiB/s);
- the disk's own sequential write rate in the same directory (the ceiling for PUT);
- server RSS growth while a `--big-mib` object is uploaded and downloaded (flat = streamed);
- ListObjectsV2 over `--keys` keys: server CPU per page of 1,000 keys without a delimiter,
  and per call with delimiter "/" (100 common prefixes) and within one prefix.

Results print as a table and go to bench/results/s3-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clients  # noqa: E402
from report import MIB, Metric, table  # noqa: E402
from servers import ROOT, SERVERS, Server  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHUNK = MIB
PART = 8 * MIB
BUCKET = "bench-bulk"
# Targets from the S3 issue (MiB/s, or ms of server CPU per listing page).
TARGETS = {"put_mib_s": 300, "get_mib_s": 1000, "ranged_mib_s": 1000, "list_page_cpu_ms": 15}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size-mib", type=int, default=256)
    p.add_argument("--big-mib", type=int, default=1024)
    p.add_argument("--keys", type=int, default=100_000)
    p.add_argument("--servers", default="gureum,moto")
    p.add_argument("--skip", default="", help="comma-separated: streams, memory, list")
    args = p.parse_args(argv)
    if not 1 <= args.size_mib <= 4096 or not 1 <= args.big_mib <= 8192:
        p.error("sizes must be in 1..4096 MiB (big: 1..8192)")
    if not 1000 <= args.keys <= 1_000_000:
        p.error("--keys must be in 1000..1000000")
    args.server_names = [s for s in args.servers.split(",") if s]
    args.skipped = {s for s in args.skip.split(",") if s}
    return args


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120), parts.path + "?" + parts.query


def _put(url: str, size: int, buffer: memoryview) -> str:
    conn, target = _connection(url)
    conn.putrequest("PUT", target, skip_accept_encoding=True)
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    sent = 0
    while sent < size:
        n = min(CHUNK, size - sent)
        conn.send(buffer[:n])
        sent += n
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"PUT answered {response.status}")
    return response.getheader("ETag", "")


def _get(url: str, headers: dict[str, str] | None = None, conn: http.client.HTTPConnection | None = None) -> int:
    own = conn is None
    if own:
        conn, target = _connection(url)
    else:
        target = _connection(url)[1]
    conn.request("GET", target, headers=headers or {})
    response = conn.getresponse()
    if response.status not in (200, 206):
        raise RuntimeError(f"GET answered {response.status}")
    buffer = bytearray(CHUNK)
    total = 0
    while n := response.readinto(buffer):
        total += n
    if own:
        conn.close()
    return total


def _rate(size: int, seconds: float) -> float:
    return size / MIB / seconds if seconds > 0 else 0.0


def disk_write_rate(directory: Path, size: int, buffer: memoryview) -> float:
    path = directory / "disk-probe"
    started = time.perf_counter()
    with open(path, "wb") as f:
        written = 0
        while written < size:
            written += f.write(buffer[:min(CHUNK, size - written)])
        f.flush()
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return _rate(size, elapsed)


def streams(server: Server, s3, size: int, buffer: memoryview) -> dict[str, Any]:
    out: dict[str, Any] = {"disk_write_mib_s": disk_write_rate(server.workdir, size, buffer)}
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "big"}, ExpiresIn=3600)
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    _put(put_url, size, buffer)
    out["put_mib_s"] = _rate(size, time.perf_counter() - started)
    out["put_cpu_ms_per_mib"] = (server.cpu_seconds() - cpu) * 1000 / (size / MIB)

    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "big"}, ExpiresIn=3600)
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    got = _get(get_url)
    out["get_mib_s"] = _rate(got, time.perf_counter() - started)
    out["get_cpu_ms_per_mib"] = (server.cpu_seconds() - cpu) * 1000 / (size / MIB)
    if got != size:
        raise RuntimeError(f"GET returned {got} of {size} bytes")

    ranges = [(start, min(start + PART, size) - 1) for start in range(0, size, PART)]
    local = threading.local()

    def fetch(r: tuple[int, int]) -> int:
        if not hasattr(local, "conn"):
            local.conn = _connection(get_url)[0]
        return _get(get_url, {"Range": f"bytes={r[0]}-{r[1]}"}, local.conn)

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        fetched = sum(pool.map(fetch, ranges))
    out["ranged_mib_s"] = _rate(fetched, time.perf_counter() - started)

    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
    parts = []
    started = time.perf_counter()
    for number, start in enumerate(range(0, size, PART), 1):
        url = s3.generate_presigned_url("upload_part", Params={
            "Bucket": BUCKET, "Key": "multi", "UploadId": upload, "PartNumber": number}, ExpiresIn=3600)
        parts.append({"PartNumber": number, "ETag": _put(url, min(PART, size - start), buffer)})
    s3.complete_multipart_upload(Bucket=BUCKET, Key="multi", UploadId=upload, MultipartUpload={"Parts": parts})
    out["multipart_mib_s"] = _rate(size, time.perf_counter() - started)
    s3.delete_object(Bucket=BUCKET, Key="big")
    s3.delete_object(Bucket=BUCKET, Key="multi")
    return out


def memory(server: Server, s3, size: int, buffer: memoryview) -> dict[str, Any]:
    """RSS growth of the server while one big object goes in and comes out."""
    baseline = server.rss_bytes()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], server.rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "huge"}, ExpiresIn=3600)
        _put(put_url, size, buffer)
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "huge"}, ExpiresIn=3600)
        _get(get_url)
    finally:
        done.set()
        sampler.join()
    s3.delete_object(Bucket=BUCKET, Key="huge")
    return {"rss_before_mib": baseline / MIB, "rss_growth_mib": (peak[0] - baseline) / MIB}


def listing(server: Server, endpoint: str, keys: int) -> dict[str, Any]:
    names = [f"dir{i % 100:03d}/key{i:07d}" for i in range(keys)]

    def fill(chunk: list[str]) -> None:
        client = clients.make(endpoint, "s3", read_timeout=60)
        for name in chunk:
            client.put_object(Bucket="bench-list", Key=name, Body=b"")

    clients.make(endpoint, "s3").create_bucket(Bucket="bench-list")
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fill, [names[i::8] for i in range(8)]))
    out: dict[str, Any] = {"fill_seconds": time.perf_counter() - started}
    s3 = clients.make(endpoint, "s3", read_timeout=120)

    def per_call(repeat: int = 1, **params) -> tuple[float, int]:
        """Server CPU per ListObjectsV2 call, paging through everything `repeat` times."""
        cpu, calls, seen = server.cpu_seconds(), 0, 0
        for _ in range(repeat):
            token = None
            while True:
                page = s3.list_objects_v2(Bucket="bench-list", MaxKeys=1000, **params,
                                          **({"ContinuationToken": token} if token else {}))
                calls += 1
                seen += page.get("KeyCount", 0)
                token = page.get("NextContinuationToken")
                if not token:
                    break
        return (server.cpu_seconds() - cpu) * 1000 / calls, seen // repeat

    out["list_page_cpu_ms"], seen = per_call(repeat=max(1, 100_000 // keys))
    if seen != keys:
        raise RuntimeError(f"listed {seen} of {keys} keys")
    # Enough calls that the clock-tick resolution of /proc's CPU times (10 ms) washes out.
    out["list_delimiter_cpu_ms"], _ = per_call(repeat=20, Delimiter="/")
    out["list_prefix_cpu_ms"], _ = per_call(repeat=20, Prefix="dir042/", Delimiter="/")
    return out


def measure(name: str, args: argparse.Namespace, buffer: memoryview) -> dict[str, Any]:
    with Server(SERVERS[name]) as server:
        server.start()
        server.wait_ready(30)
        s3 = clients.make(server.endpoint, "s3", read_timeout=300)
        s3.create_bucket(Bucket=BUCKET)
        result: dict[str, Any] = {}
        for part, run in (("streams", lambda: streams(server, s3, args.size_mib * MIB, buffer)),
                          ("memory", lambda: memory(server, s3, args.big_mib * MIB, buffer)),
                          ("list", lambda: listing(server, server.endpoint, args.keys))):
            if part in args.skipped:
                continue
            print(f"[{name}] {part}", flush=True)
            try:
                result.update(run())
            except Exception as e:  # recorded; the other parts still run
                result[f"{part}_error"] = f"{type(e).__name__}: {e}"
                print(f"    failed: {result[f'{part}_error']}", flush=True)
        return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # One random 1 MiB block sent again and again: incompressible, and the client never allocates.
    buffer = memoryview(os.urandom(CHUNK))
    started = datetime.now(timezone.utc)
    results = {name: {"results": measure(name, args, buffer)} for name in args.server_names}
    print()
    print(table(f"S3 bulk ({args.size_mib} MiB object, {args.keys} keys)", [
        Metric("disk sequential write (MiB/s)", "results.disk_write_mib_s", False, digits=0, compare=False),
        Metric("PUT single stream (MiB/s)", "results.put_mib_s", False, digits=0, target=TARGETS["put_mib_s"]),
        Metric("server CPU per MiB PUT (ms)", "results.put_cpu_ms_per_mib", True),
        Metric("GET single stream (MiB/s)", "results.get_mib_s", False, digits=0, target=TARGETS["get_mib_s"]),
        Metric("server CPU per MiB GET (ms)", "results.get_cpu_ms_per_mib", True),
        Metric("8 MiB ranged GETs, 4 in flight (MiB/s)", "results.ranged_mib_s", False, digits=0,
               target=TARGETS["ranged_mib_s"]),
        Metric("multipart upload, 8 MiB parts (MiB/s)", "results.multipart_mib_s", False, digits=0),
        Metric(f"RSS growth during {args.big_mib} MiB PUT+GET (MiB)", "results.rss_growth_mib", True, digits=1),
        Metric("ListObjectsV2 page of 1,000 (ms CPU)", "results.list_page_cpu_ms", True,
               target=TARGETS["list_page_cpu_ms"]),
        Metric("ListObjectsV2 delimiter '/' (ms CPU)", "results.list_delimiter_cpu_ms", True),
        Metric("ListObjectsV2 prefix + delimiter (ms CPU)", "results.list_prefix_cpu_ms", True),
    ], results))
    for name, r in results.items():
        for key, value in r["results"].items():
            if key.endswith("_error"):
                print(f"{name} {key[:-6]} failed: {value}")
    out = RESULTS_DIR / f"s3-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started_at": started.isoformat(timespec="seconds"),
                               "settings": vars(args) | {"skipped": sorted(args.skipped)},
                               "results": results}, indent=2, default=str) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
