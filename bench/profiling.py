"""Where gureum's time goes: `run.py --profile`.

Two extra runs of gureum alone, whose figures are not comparable with the timed ones:
- `-X importtime`: the slowest imports between process start and the first answer;
- cProfile over startup and the chosen scenarios (the gateway runs on one event-loop
  thread, so one profile sees the whole request path), top functions by own time.
"""

from __future__ import annotations

import argparse
import io
import pstats
import signal
from pathlib import Path
from typing import Callable

from scenarios import PREPARE, SCENARIOS
from servers import SERVERS, Server, ServerSpec

TOP = 25


def _wrapped(options: Callable[[Path], list[str]]) -> ServerSpec:
    """gureum's own command line, run by the same interpreter with `options(workdir)` in front."""
    base = SERVERS["gureum"]

    def argv(port: int, workdir: Path) -> list[str]:
        python, *rest = base.argv(port, workdir)
        return [python, *options(workdir), *rest]
    return ServerSpec("gureum", argv)


def _parse_importtime(log: str) -> tuple[float, list[tuple[int, int, str]]]:
    """(total ms, [(cumulative us, self us, module)]) from `-X importtime` lines."""
    rows, total_us, top_indent = [], 0, None
    for line in log.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|", 2)
        indent = len(name) - len(name.lstrip())
        top_indent = indent if top_indent is None else min(top_indent, indent)
        rows.append((int(cumulative), int(own), name.strip(), indent))
    total_us = sum(c for c, _, _, i in rows if i == top_indent)
    return total_us / 1000, sorted(((c, o, n) for c, o, n, _ in rows), reverse=True)


def import_times(args: argparse.Namespace) -> str:
    with Server(_wrapped(lambda _: ["-X", "importtime"])) as server:
        server.start()
        startup = server.wait_ready(args.startup_timeout)
        total_ms, rows = _parse_importtime(server.log_path.read_text(errors="replace"))
    out = io.StringIO()
    print(f"under -X importtime: first answer after {startup:.3f} s, {total_ms:.0f} ms of it in imports",
          file=out)
    print("slowest imports (cumulative ms, self ms, module):", file=out)
    for cumulative, own, name in rows[:TOP]:
        print(f"  {cumulative / 1000:8.1f} {own / 1000:8.1f}  {name}", file=out)
    return out.getvalue()


def cprofile(args: argparse.Namespace, save_to: Path) -> str:
    spec = _wrapped(lambda workdir: ["-m", "cProfile", "-o", str(workdir / "gureum.prof")])
    with Server(spec) as server:
        server.start()
        server.wait_ready(args.startup_timeout)
        for name in args.scenarios:
            if name in PREPARE:
                PREPARE[name](server.endpoint)
            SCENARIOS[name](server.endpoint, args.seconds, args.concurrency)
        prof = server.workdir / "gureum.prof"
        # uvicorn re-raises the signal it shut down on: SIGINT becomes KeyboardInterrupt, which
        # unwinds through cProfile (it writes its file), where SIGTERM would end the process.
        server.stop_process(signal.SIGINT)
        if not prof.exists():
            return "cProfile wrote nothing (did the server exit on SIGINT?)\n"
        save_to.parent.mkdir(parents=True, exist_ok=True)
        save_to.write_bytes(prof.read_bytes())
    out = io.StringIO()
    stats = pstats.Stats(str(save_to), stream=out)
    print(f"cProfile of gureum over {', '.join(args.scenarios)} (saved to {save_to.name}); "
          f"top {TOP} by own time:", file=out)
    stats.sort_stats("tottime").print_stats(TOP)
    return out.getvalue()
