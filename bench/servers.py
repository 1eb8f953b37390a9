"""The servers under test: each a child process on a free loopback port, watched through /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

import clients

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: `argv(port, workdir)` gives its command line."""

    name: str
    argv: Callable[[int, Path], list[str]]


def _gureum_argv(port: int, workdir: Path) -> list[str]:
    data_dir = workdir / "data"
    return [sys.executable, "-m", "gureum", "start", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), "--log-level", "warning"]


def _moto_argv(port: int, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


SERVERS: dict[str, ServerSpec] = {
    "gureum": ServerSpec("gureum", _gureum_argv),
    "moto": ServerSpec("moto", _moto_argv),
}


class ServerFailed(RuntimeError):
    """The server exited or never answered; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    """ppid -> child pids, from one pass over /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants (gureum supervises children of its own)."""
    tree = _children()
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(tree.get(p, ()))
    return pids


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of stat)


class Server:
    """One running server. Use as a context manager: it is always stopped on exit."""

    def __init__(self, spec: ServerSpec):
        self.spec = spec
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._workdir = tempfile.TemporaryDirectory(prefix=f"bench-{spec.name}-")
        self.workdir = Path(self._workdir.name)
        self.log_path = self.workdir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        log = open(self.log_path, "wb")
        argv = self.spec.argv(self.port, self.workdir)
        self.started_at = time.perf_counter()
        # Own session: a Ctrl-C in the terminal reaches only us, and we stop the whole group.
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float) -> float:
        """Seconds from process start to the first answered STS GetCallerIdentity."""
        client = clients.make(self.endpoint, "sts", connect_timeout=0.5, read_timeout=timeout)
        if self.proc is None:
            self.start()
        deadline = self.started_at + timeout
        while True:
            try:
                client.get_caller_identity()
                return time.perf_counter() - self.started_at
            except (BotoCoreError, ClientError) as e:
                last = e
            if self.proc.poll() is not None:
                raise ServerFailed(f"{self.spec.name} exited with {self.proc.returncode}\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise ServerFailed(f"{self.spec.name} did not answer within {timeout:.0f}s "
                                   f"(last error: {last})\n{self.log_tail()}")
            time.sleep(0.002)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("    " + line for line in text[-lines:])

    def rss_bytes(self) -> int:
        """Resident memory of the server and its descendants."""
        return 1024 * sum(_status_kib(p, "VmRSS") for p in process_tree(self.proc.pid))

    def peak_rss_bytes(self) -> int:
        """High-water resident memory of the main process (VmHWM)."""
        return 1024 * _status_kib(self.proc.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        """User + system CPU consumed so far by the server and its live descendants."""
        return sum(_cpu_ticks(p) for p in process_tree(self.proc.pid)) / CLOCK_TICKS

    def stop_process(self, first_signal: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            _terminate_group(proc, first_signal)

    def stop(self) -> None:
        self.stop_process()
        self._workdir.cleanup()


def _terminate_group(proc: subprocess.Popen, first_signal: int) -> None:
    """Signal the server's process group, SIGKILL it if it lingers, and reap the leader."""
    try:
        os.killpg(proc.pid, first_signal)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    try:  # children of the server that outlived it
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
