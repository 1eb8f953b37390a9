"""A long hostile-input run against a fresh gureum: N mutated requests or T seconds, whichever
comes first (see tests/hostile.py for the cases and the property).

    .venv/bin/python bench/fuzz.py [--cases 20000] [--seconds 300] [--seed 7] [--endpoint URL]

Without --endpoint it starts its own server (ephemeral data). Prints cases tried per kind,
failures with a reproducer, whether the server still serves after each batch, and the
server's resident memory at the start and the end (Linux /proc).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile  # noqa: E402
from tests.conftest import Server  # noqa: E402

BATCH = 500


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def prepare(endpoint: str) -> None:
    import boto3
    from botocore.exceptions import ClientError

    args = dict(endpoint_url=endpoint, region_name=hostile.REGION,
                aws_access_key_id="test", aws_secret_access_key="test")
    for call in (
        lambda: boto3.client("s3", **args).create_bucket(Bucket="hostile-bucket"),
        lambda: boto3.client("dynamodb", **args).create_table(
            TableName="hostile", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST"),
    ):
        try:
            call()
        except ClientError:
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--endpoint")
    args = parser.parse_args()

    server = None
    if args.endpoint is None:
        server = Server(Path(tempfile.mkdtemp(prefix="gureum-fuzz-")) / "data").start()
        endpoint = server.endpoint
    else:
        endpoint = args.endpoint
    host, port = hostile.endpoint_parts(endpoint)
    prepare(endpoint)
    pid = server.proc.pid if server else None
    rss_start = rss_mb(pid) if pid else None

    rng = random.Random(args.seed)
    seeds = hostile.seeds()
    tried: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[tuple[str, str]] = []
    serving_failures = 0
    rss_batches: list[float] = []
    started = time.monotonic()
    n = 0
    try:
        while n < args.cases and time.monotonic() - started < args.seconds:
            seed = rng.choice(seeds)
            case = hostile.mutate(seed, rng)
            tried[seed.protocol] += 1
            try:
                answer, problem = hostile.run_case(case, host, port)
                statuses[answer.status] += 1
            except OSError as e:
                problem = f"client error: {e!r}"
            if problem:
                failures.append((problem[:300], case.reproducer()[:400]))
            n += 1
            if n % BATCH == 0:
                if not hostile.still_serving(host, port):
                    serving_failures += 1
                if pid:
                    rss_batches.append(rss_mb(pid) or 0)
        serving = hostile.still_serving(host, port)
        elapsed = time.monotonic() - started
        rss_end = rss_mb(pid) if pid else None
    finally:
        if server:
            server.stop()

    print(f"cases: {n} in {elapsed:.1f} s ({n / elapsed:.0f}/s), seed {args.seed}")
    print("statuses:", dict(sorted(statuses.items())))
    print(f"failures: {len(failures)}; serving after every batch of {BATCH}: {serving_failures == 0 and serving}")
    if rss_start is not None:
        print(f"server RSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB at end; after each batch:",
              " ".join(f"{r:.0f}" for r in rss_batches))
    print("cases per protocol:", dict(sorted(tried.items())))
    for problem, reproducer in failures[:20]:
        print(f"- {problem}\n  {reproducer}")
    return 1 if failures or serving_failures or not serving else 0


if __name__ == "__main__":
    sys.exit(main())
