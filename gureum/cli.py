"""gureum's command line: start | status | reset | doctor | state | accounts."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from gureum import __version__
from gureum.config import Settings


def _endpoint(args) -> str:
    return (
        getattr(args, "endpoint", None)
        or os.environ.get("GUREUM_ENDPOINT")
        or os.environ.get("AWS_ENDPOINT_URL")
        or "http://127.0.0.1:4566"
    ).rstrip("/")


def cmd_start(args) -> int:
    from gureum.gateway.server import StartupError, serve

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        ephemeral=True if args.ephemeral else None,
        log_level=args.log_level,
        iam_enforcement=None if args.iam_enforcement is None else args.iam_enforcement == "on",
    )
    try:
        serve(settings)
    except StartupError as e:
        print(f"gureum: {e}", file=sys.stderr)
        return e.exit_code
    return 0


def cmd_status(args) -> int:
    url = _endpoint(args) + "/_gureum/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            health = json.load(r)
    except (urllib.error.URLError, OSError) as e:
        print(f"gureum is not running at {_endpoint(args)} ({getattr(e, 'reason', e)})", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(health, indent=2))
    else:
        running = [n for n, s in health["services"].items() if s != "not implemented"]
        print(f"gureum {health['version']} running at {_endpoint(args)}, up {health['uptime_seconds']:.0f}s")
        print(f"data: {health['data_dir']}")
        print(f"services: {', '.join(sorted(running)) or '(none)'}")
    return 0


def cmd_reset(args) -> int:
    from gureum.gateway.runtime import DataDirError, _lock_data_dir

    settings = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None)
    data_dir = settings.data_dir
    if not data_dir.exists():
        print(f"nothing to reset: {data_dir} does not exist")
        return 0
    if not args.yes:
        try:
            answer = input(f"Delete all gureum state in {data_dir}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("aborted")
            return 1
    try:
        lock = _lock_data_dir(data_dir)  # refuse while a server holds the directory
    except DataDirError as e:
        print(f"gureum: {e}", file=sys.stderr)
        return 2
    lock.close()
    shutil.rmtree(data_dir)
    print(f"removed {data_dir}")
    return 0


def cmd_doctor(args) -> int:
    from gureum.doctor import check, render
    from gureum.gateway.runtime import DataDirError, _lock_data_dir

    data_dir = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None).data_dir
    if not data_dir.is_dir():
        print(f"gureum: no data directory at {data_dir}", file=sys.stderr)
        return 2
    try:
        lock = _lock_data_dir(data_dir)
    except DataDirError as e:
        if args.repair:  # a blob being uploaded right now would look like an orphan
            print(f"gureum: {e}; --repair needs it to itself", file=sys.stderr)
            return 2
        lock = None
    try:
        report = check(data_dir, repair=args.repair, live=lock is None)
    finally:
        if lock is not None:
            lock.close()
    print(json.dumps(report.as_dict(), indent=2) if args.json else render(report))
    return 1 if report.damaged else 0


def cmd_state_export(args) -> int:
    from gureum.state import StateError, export_state

    data_dir = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None).data_dir
    try:
        manifest = export_state(data_dir, Path(args.file))
    except StateError as e:
        print(f"gureum: {e}", file=sys.stderr)
        return 2
    print(f"exported {data_dir} to {args.file} ({len(manifest['blobs'])} blobs)")
    return 0


def cmd_state_import(args) -> int:
    from gureum.state import StateError, import_state

    data_dir = Settings.from_env(data_dir=Path(args.data_dir) if args.data_dir else None).data_dir
    try:
        manifest = import_state(Path(args.file), data_dir, force=args.force)
    except StateError as e:
        print(f"gureum: {e}", file=sys.stderr)
        return 2
    print(f"imported {args.file} into {data_dir} ({len(manifest['blobs'])} blobs, "
          f"exported {manifest['created']} by gureum {manifest['gureum_version']})")
    return 0


def _signed_call(args, method: str, path: str, payload: dict | None = None) -> dict:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    settings = Settings.from_env()
    credentials = Credentials(
        args.access_key or settings.root_access_key_id, args.secret_key or settings.root_secret_access_key
    )
    data = json.dumps(payload).encode() if payload is not None else b""
    request = AWSRequest(method=method, url=_endpoint(args) + path, data=data,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "gureum", "us-east-1").add_auth(request)
    prepared = request.prepare()
    http_request = urllib.request.Request(prepared.url, data=data or None, method=method,
                                          headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(http_request, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        body = json.loads(e.read() or b"{}")
        raise SystemExit(f"gureum: {body.get('error')}: {body.get('message')}")
    except urllib.error.URLError as e:
        raise SystemExit(f"gureum is not running at {_endpoint(args)} ({e.reason})")


def cmd_accounts_create(args) -> int:
    result = _signed_call(args, "POST", "/_gureum/accounts", {"alias": args.alias})
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"account id:        {result['account_id']}")
        if result.get("alias"):
            print(f"alias:             {result['alias']}")
        print(f"access key id:     {result['access_key_id']}")
        print(f"secret access key: {result['secret_access_key']}")
    return 0


def cmd_accounts_list(args) -> int:
    result = _signed_call(args, "GET", "/_gureum/accounts")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for a in result["accounts"]:
            print(f"{a['account_id']}  {a['alias'] or ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gureum", description="A local AWS cloud on one port.")
    parser.add_argument("--version", action="version", version=f"gureum {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    start = sub.add_parser("start", help="run the cloud in the foreground")
    start.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    start.add_argument("--port", type=int, default=None, help="port (default 4566)")
    start.add_argument("--data-dir", default=None, help="state directory (default ~/.local/share/gureum)")
    start.add_argument("--ephemeral", action="store_true", help="keep state in a temporary directory removed at exit")
    start.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"])
    start.add_argument("--iam-enforcement", default=None, choices=["on", "off"],
                       help="evaluate IAM policies on every request (default on)")
    start.set_defaults(func=cmd_start)

    status = sub.add_parser("status", help="is gureum running, and what does it serve")
    status.add_argument("--endpoint", default=None)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    reset = sub.add_parser("reset", help="delete all state (asks first)")
    reset.add_argument("--data-dir", default=None)
    reset.add_argument("--yes", "-y", action="store_true", help="do not ask")
    reset.set_defaults(func=cmd_reset)

    doctor = sub.add_parser("doctor", help="check the store's consistency; --repair removes crash leftovers")
    doctor.add_argument("--data-dir", default=None)
    doctor.add_argument("--repair", action="store_true",
                        help="delete orphan blobs and partial writes, compact the database "
                             "(needs the data directory to itself)")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    state = sub.add_parser("state", help="export the state to one file, or import it")
    state_sub = state.add_subparsers(dest="state_command", required=True)
    export = state_sub.add_parser("export", help="write the state to FILE (works while gureum runs)")
    export.add_argument("file", metavar="FILE", help="a .tar, or .tar.gz to compress")
    export.add_argument("--data-dir", default=None)
    export.set_defaults(func=cmd_state_export)
    imp = state_sub.add_parser("import", help="restore the state from FILE (gureum must not be running on it)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--data-dir", default=None)
    imp.add_argument("--force", action="store_true", help="replace the state already in the data directory")
    imp.set_defaults(func=cmd_state_import)

    accounts = sub.add_parser("accounts", help="AWS accounts in this cloud")
    acc_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    for name, func, text in (("create", cmd_accounts_create, "add an account and print its root key"),
                             ("list", cmd_accounts_list, "list accounts")):
        p = acc_sub.add_parser(name, help=text)
        p.add_argument("--endpoint", default=None)
        p.add_argument("--access-key", default=None, help="the default account's root access key")
        p.add_argument("--secret-key", default=None)
        p.add_argument("--json", action="store_true")
        if name == "create":
            p.add_argument("--alias", default=None)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
