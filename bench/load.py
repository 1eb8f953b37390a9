"""Closed-loop load: N threads, one client each, calling as fast as answers come for a fixed time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import clients

# Hard ceiling on timed calls per scenario run, whatever --seconds says.
MAX_CALLS = 1_000_000


@dataclass
class LoadResult:
    """What a scenario hands back. `requests` counts every request sent to the server,
    setup and warm-up included, so that the server's CPU time can be divided by it."""

    latencies: list[float]  # seconds, one per timed call (failed calls included)
    elapsed: float  # seconds of the timed window
    requests: int
    errors: int = 0
    error_sample: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Call = Callable[[Any, int], Any]  # (client, sequence number) -> anything


def drive(endpoint: str, service: str, call: Call, seconds: float, concurrency: int,
          setup: Callable[[Any], int] | None = None,
          credentials: Callable[[], tuple[str, str]] | None = None) -> LoadResult:
    """Run `call` from `concurrency` threads for `seconds`.

    `setup(client)` runs once before the clock starts and returns how many requests it sent;
    `credentials()`, called after setup, names the key the timed clients sign with (root's
    by default).
    Each client makes one untimed warm-up call first, so connections are open and the
    server's first-use costs are not in the figures.
    """
    pool = [clients.make(endpoint, service) for _ in range(concurrency)]
    sent = setup(pool[0]) if setup else 0
    if credentials is not None:
        key = credentials()
        pool = [clients.make(endpoint, service, credentials=key) for _ in range(concurrency)]
    for i, client in enumerate(pool):
        call(client, -1 - i)
        sent += 1

    per_thread: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    samples: list[str] = []
    ends = [0.0] * concurrency
    cap = max(1, MAX_CALLS // concurrency)
    gate = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def work(n: int) -> None:
        client, lat = pool[n], per_thread[n]
        gate.wait()
        deadline = window["deadline"]
        clock = time.perf_counter
        seq = n
        while len(lat) < cap:
            t0 = clock()
            if t0 >= deadline:
                break
            try:
                call(client, seq)
            except Exception as e:  # any failure counts; the first few are kept to show
                errors[n] += 1
                if len(samples) < 3:
                    samples.append(f"{type(e).__name__}: {e}")
            lat.append(clock() - t0)
            seq += concurrency
        ends[n] = clock()

    threads = [threading.Thread(target=work, args=(n,), daemon=True, name=f"load-{n}")
               for n in range(concurrency)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    window["deadline"] = start + seconds
    gate.wait()
    for t in threads:
        t.join(seconds + 30)  # a call in flight ends by its read timeout
    if any(t.is_alive() for t in threads):
        raise RuntimeError("load threads did not finish; the server stopped answering")
    latencies = [x for lat in per_thread for x in lat]
    return LoadResult(latencies=latencies, elapsed=max(ends) - start, requests=sent + len(latencies),
                      errors=sum(errors), error_sample=samples[0] if samples else None)
