"""Operator CLI: ``python3 -m chatkit_backend.admin ban|unban|bans|sessions``.

Reads the same environment as the service; exits 0 on success, 1 on config/database
failure, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import db
from .config import ConfigError, Settings, load_settings
from .jsonlog import JsonLogger
from .validation import is_valid_user_id


def user_id_arg(value: str) -> str:
    if not is_valid_user_id(value):
        raise argparse.ArgumentTypeError("USER_ID must be 1-64 characters of [A-Za-z0-9_.-]")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m chatkit_backend.admin", description="ChatKit backend operator commands"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ban = commands.add_parser("ban", help="ban a user and revoke their sessions")
    ban.add_argument("user_id", type=user_id_arg, metavar="USER_ID")
    ban.add_argument("--reason", default=None, help="why the user was banned")
    unban = commands.add_parser("unban", help="lift a ban")
    unban.add_argument("user_id", type=user_id_arg, metavar="USER_ID")
    commands.add_parser("bans", help="list banned users")
    commands.add_parser("sessions", help="count active sessions per user")
    return parser


def run(args: argparse.Namespace, settings: Settings) -> None:
    log = JsonLogger(settings.log_file, redact_enabled=settings.redaction_enabled)
    pool = db.BoundedPool(
        settings.database_url,
        max_size=1,
        acquire_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        init=db.ensure_schema,
    )
    with pool.connection() as conn:
        if args.command == "ban":
            revoked = db.ban_user(conn, args.user_id, args.reason)
            log.warning(
                "user_banned",
                user_id=args.user_id,
                reason=args.reason,
                sessions_revoked=revoked,
                source="admin_cli",
            )
            print(f"banned {args.user_id}")
        elif args.command == "unban":
            removed = db.unban_user(conn, args.user_id)
            log.info("user_unbanned", user_id=args.user_id, was_banned=removed, source="admin_cli")
            print(f"unbanned {args.user_id}" if removed else f"not banned {args.user_id}")
        elif args.command == "bans":
            for user_id, reason, banned_at in db.list_bans(conn):
                print(f"{user_id}\t{banned_at.isoformat()}\t{reason or ''}")
        elif args.command == "sessions":
            for user_id, count in db.active_session_counts(conn):
                print(f"{user_id}\t{count}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print("; ".join(exc.messages), file=sys.stderr)
        return 1
    try:
        run(args, settings)
    except db.StorageError as exc:
        print(f"error: database unavailable ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
