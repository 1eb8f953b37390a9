"""gureum and its peers, side by side: startup, idle memory, and load scenarios.

    .venv/bin/python bench/run.py [--seconds 10] [--quick] [--scenario NAME ...] [--servers gureum,moto]

Servers run one after the other (never together), each from a fresh state directory, so that
they do not compete for the machine's cores. Results print as tables and are written to
bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profiling  # noqa: E402
from report import MIB, Metric, percentile, table  # noqa: E402
from scenarios import CPU_TARGETS_MS, DEFAULT, PREPARE, SCENARIOS  # noqa: E402
from servers import ROOT, SERVERS, Server, ServerFailed  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Targets for gureum (issue: performance budget). Peers' figures are for context only.
STARTUP_TARGET_S = 0.5
IDLE_RSS_TARGET_MIB = 60
SETTLE_SECONDS = 1.0  # after the first answer, before idle memory is read


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="timed window per scenario (default 10)")
    p.add_argument("--quick", action="store_true", help="3 s per scenario")
    p.add_argument("--concurrency", type=int, default=8, help="client threads, one client each (default 8)")
    p.add_argument("--scenario", action="append", choices=[*SCENARIOS, "all"],
                   help=f"scenario to run; repeatable; 'all' for every one (default: {', '.join(DEFAULT)})")
    p.add_argument("--servers", default="gureum,moto",
                   help="comma-separated, first is the one measured against targets (default gureum,moto)")
    p.add_argument("--startup-runs", type=int, default=3,
                   help="fresh starts per server; the median time to first answer is reported (default 3)")
    p.add_argument("--startup-timeout", type=float, default=30.0)
    p.add_argument("--profile", action="store_true",
                   help="after the runs, profile gureum alone: -X importtime and cProfile")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default bench/results/<timestamp>.json)")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds = 3.0
    if not 0 < args.seconds <= 600:
        p.error("--seconds must be in (0, 600]")
    if not 1 <= args.startup_runs <= 20:
        p.error("--startup-runs must be in [1, 20]")
    if not 1 <= args.concurrency <= 64:
        p.error("--concurrency must be in [1, 64]")
    chosen = args.scenario or DEFAULT
    args.scenarios = list(SCENARIOS) if "all" in chosen else list(dict.fromkeys(chosen))
    args.server_names = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.server_names if s not in SERVERS]
    if unknown or not args.server_names:
        p.error(f"unknown servers {unknown}; known: {', '.join(SERVERS)}")
    return args


def measure_server(name: str, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"scenarios": {}, "startup_samples": []}
    samples = result["startup_samples"]
    for attempt in range(args.startup_runs):
        # Each start is fresh (new process, new state directory); the last one stays up.
        with Server(SERVERS[name]) as server:
            if attempt == 0:
                print(f"[{name}] starting {args.startup_runs}x", flush=True)
            server.start()
            try:
                samples.append(server.wait_ready(args.startup_timeout))
            except ServerFailed as e:
                result["error"] = str(e)
                print(f"[{name}] FAILED: {e}", flush=True)
                return result
            if attempt < args.startup_runs - 1:
                continue
            result["startup_seconds"] = statistics.median(samples)
            time.sleep(SETTLE_SECONDS)
            result["idle_rss_bytes"] = server.rss_bytes()
            print(f"[{name}] first answer after {result['startup_seconds']:.3f} s (median of "
                  f"{', '.join(f'{x:.3f}' for x in samples)}), idle RSS "
                  f"{result['idle_rss_bytes'] / MIB:.1f} MiB", flush=True)
            for scen in args.scenarios:
                print(f"[{name}] {scen}: {args.concurrency} clients for {args.seconds:g} s", flush=True)
                result["scenarios"][scen] = run_scenario(server, scen, args)
            result["rss_after_load_bytes"] = server.rss_bytes()
            result["peak_rss_bytes"] = server.peak_rss_bytes()
    return result


def run_scenario(server: Server, name: str, args: argparse.Namespace) -> dict[str, Any]:
    try:
        if name in PREPARE:  # data loading, before the CPU window
            started = time.perf_counter()
            PREPARE[name](server.endpoint)
            print(f"    prepared in {time.perf_counter() - started:.1f} s", flush=True)
    except Exception as e:
        print(f"    prepare failed: {type(e).__name__}: {e}", flush=True)
        return {"error": f"prepare: {type(e).__name__}: {e}"}
    cpu_before = server.cpu_seconds()
    try:
        load = SCENARIOS[name](server.endpoint, args.seconds, args.concurrency)
    except Exception as e:  # a scenario the server cannot serve: recorded, the run goes on
        print(f"    failed: {type(e).__name__}: {e}", flush=True)
        return {"error": f"{type(e).__name__}: {e}"}
    cpu = server.cpu_seconds() - cpu_before
    calls = len(load.latencies)
    out = {
        "calls": calls,
        "requests": load.requests,
        "errors": load.errors,
        "elapsed_seconds": load.elapsed,
        "ops_per_second": calls / load.elapsed if load.elapsed > 0 else None,
        "p50_ms": percentile(load.latencies, 50) * 1000,
        "p99_ms": percentile(load.latencies, 99) * 1000,
        "server_cpu_seconds": cpu,
        "cpu_ms_per_request": cpu / load.requests * 1000 if load.requests else None,
    }
    if load.error_sample:
        out["error_sample"] = load.error_sample
    if load.errors:
        print(f"    {load.errors} of {calls} calls failed, e.g. {load.error_sample}", flush=True)
    return out


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for dist in ("gureum", "moto", "botocore", "boto3"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(), "versions": versions}


def print_tables(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    names = list(results)
    print()
    print(table("startup and memory", [
        Metric("first answered request (s)", "startup_seconds", True, digits=3, target=STARTUP_TARGET_S),
        Metric("idle RSS (MiB)", "idle_rss_bytes", True, scale=MIB, digits=1, target=IDLE_RSS_TARGET_MIB),
        Metric("RSS after load (MiB)", "rss_after_load_bytes", True, scale=MIB, digits=1),
    ], results))
    for scen in args.scenarios:
        k = f"scenarios.{scen}."
        print()
        print(table(f"{scen} ({args.concurrency} clients, {args.seconds:g} s)", [
            Metric("throughput (ops/s)", k + "ops_per_second", False, digits=0),
            Metric("latency p50 (ms)", k + "p50_ms", True),
            Metric("latency p99 (ms)", k + "p99_ms", True),
            Metric("server CPU per request (ms)", k + "cpu_ms_per_request", True, digits=3,
                   target=CPU_TARGETS_MS.get(scen)),
            Metric("failed calls", k + "errors", True, digits=0, compare=False),
        ], results))
    if len(names) > 1:
        print(f"\n'{names[0]} vs X' > 1 means {names[0]} is better "
              "(X/ours for times and memory, ours/X for throughput).")
    for n, r in results.items():
        if r.get("error"):
            print(f"{n} did not run: {r['error'].splitlines()[0]}")
        for scen, s in r.get("scenarios", {}).items():
            if s.get("error"):
                print(f"{n} {scen} failed: {s['error']}")


def _interrupt(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so every server is stopped by its context manager."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    started = datetime.now(timezone.utc)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in args.server_names:
            results[name] = measure_server(name, args)
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    print_tables(results, args)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"seconds": args.seconds, "concurrency": args.concurrency, "scenarios": args.scenarios,
                     "servers": args.server_names, "startup_runs": args.startup_runs,
                     "settle_seconds": SETTLE_SECONDS},
        "targets": {"startup_seconds": STARTUP_TARGET_S, "idle_rss_mib": IDLE_RSS_TARGET_MIB,
                    "cpu_ms_per_request": CPU_TARGETS_MS},
        "results": results,
    }
    out = args.output or RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if args.profile:
        print("\n== profile (extra runs of gureum alone; slower than the figures above) ==")
        try:
            print(profiling.import_times(args))
            print(profiling.cprofile(args, out.with_suffix(".prof")))
        except (ServerFailed, KeyboardInterrupt) as e:
            print(f"profile not taken: {e}", file=sys.stderr)
    failed = any(r.get("error") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
