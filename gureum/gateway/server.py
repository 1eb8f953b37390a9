"""Start the gateway on uvicorn (uvloop + httptools) on a socket we bind ourselves.

Binding first lets a taken port fail with a clear message before anything else starts.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys

from gureum.config import Settings


class StartupError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use (is gureum already running?)", 1) from None
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror}", 1) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("gureum")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


# How long an idle client connection stays open: longer than the pauses of scripts and tests
# between calls (an idle connection costs a file descriptor, not a thread).
KEEP_ALIVE_SECONDS = 75


def _after_graceful_stop(signum, frame) -> None:
    """The signal uvicorn passes on once it has stopped: the shutdown is already done."""


def serve(settings: Settings) -> None:
    import uvicorn

    from gureum.gateway.app import GatewayApp
    from gureum.gateway.runtime import DataDirError, Runtime

    configure_logging(settings.log_level)
    sock = bind(settings.host, settings.port)
    try:
        runtime = Runtime(settings)
    except DataDirError as e:
        sock.close()
        raise StartupError(str(e), 2) from None
    try:
        config = uvicorn.Config(
            GatewayApp(runtime),
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_level=settings.log_level if settings.log_level != "debug" else "debug",
            server_header=False,
            date_header=True,
            # gureum is the endpoint, not behind a proxy: X-Forwarded-For must not change the
            # caller's address (aws:SourceIp in policies), and the middleware costs every request.
            proxy_headers=False,
            timeout_graceful_shutdown=30,
            # SDKs keep idle connections without limit and reuse them; a server that closes one
            # just as a request goes out fails that request (botocore: ConnectionClosedError).
            # uvicorn's 5 s made that race common for any client pausing a few seconds.
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        server = uvicorn.Server(config)
        # uvicorn drains in-flight requests on SIGTERM/SIGINT, then re-raises the signal to the
        # handler that was installed before it: a no-op one makes a graceful stop exit 0.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _after_graceful_stop)
        logging.getLogger("gureum").info(
            "gureum listening on http://%s:%d (data: %s)", settings.host, settings.port, runtime.data_dir
        )
        server.run(sockets=[sock])
    finally:
        runtime.close()
