"""Crash consistency, many cycles: SIGKILL a busy gureum at random moments and check what survives.

Each cycle runs the workload of tests/integration/test_crash_consistency.py (S3 PUTs up to a
few MiB and multipart uploads, DynamoDB PutItem and TransactWriteItems, IAM users with inline
policies, from several threads), kills the server at a random moment, runs `gureum doctor`
(no damage allowed), repairs, restarts on the same data directory and verifies every
acknowledged write. Stops after --cycles or --seconds, whichever comes first.

    .venv/bin/python bench/crash.py --cycles 30 --seconds 600
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import Server  # noqa: E402
from tests.integration.test_crash_consistency import Workload, crash_cycle  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=600, help="stop starting cycles after this long")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--run", type=float, nargs=2, default=(0.3, 3.0), metavar=("MIN", "MAX"),
                        help="seconds of writing before the kill (uniform)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}, up to {args.cycles} cycles / {args.seconds:.0f}s, {args.threads} writer threads")
    with tempfile.TemporaryDirectory(prefix="gureum-crash-") as tmp:
        server = Server(Path(tmp) / "data").start()
        workload = Workload(rng.randrange(1 << 30), threads=args.threads)
        workload.prepare(server.endpoint)
        results, began, failure = [], time.time(), None
        try:
            while len(results) < args.cycles and time.time() - began < args.seconds:
                try:
                    results.append(crash_cycle(server, workload, rng, run_seconds=tuple(args.run)))
                except AssertionError as e:
                    failure = e
                    break
                r = results[-1]
                print(f"cycle {len(results):3d}: {workload.acknowledged:6d} acknowledged so far, "
                      f"{r['checked']:5d} keys checked, {r['orphans']} orphan blob(s) and {r['temporaries']} "
                      f"partial write(s) before repair, restart {r['restart_seconds']:.2f}s", flush=True)
        finally:
            server.stop()
    if results:
        restarts = sorted(r["restart_seconds"] for r in results)
        print(f"\n{len(results)} cycles in {time.time() - began:.0f}s: {workload.acknowledged} acknowledged writes, "
              f"0 lost; orphan blobs before repair: total {sum(r['orphans'] for r in results)}, "
              f"max {max(r['orphans'] for r in results)}; partial writes: total "
              f"{sum(r['temporaries'] for r in results)}; restart median {statistics.median(restarts):.2f}s, "
              f"max {restarts[-1]:.2f}s")
    if failure is not None:
        print(f"FAILED in cycle {len(results) + 1}: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
