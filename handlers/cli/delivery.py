"""`csatbot` commands: messages csatbot could not deliver."""

from __future__ import annotations

import argparse
from typing import Any

from bot.core.delivery import failed_messages, retry_failed
from bot.core.i18n import Gettext
from bot.core.settings import Settings
from handlers.cli.common import dump_json, err, open_context, out


def cmd_outbox_failed(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    failed = failed_messages(ctx, args.limit)
    if args.json:
        dump_json([{"id": m.id, "key": m.key, "kind": m.kind, "target": m.target, "text": m.text, "error": m.error,
                    "attempts": m.attempts, "created_at": m.created_at.isoformat(),
                    "failed_at": m.failed_at.isoformat()} for m in failed])
        return 0
    if not failed:
        out(_("Every message was delivered: nothing failed."))
        return 0
    for message in failed:
        when = message.failed_at.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
        out(f"#{message.id}  {when}  {message.kind} → {message.target}  {message.key}")
        out(f"    {message.text[:100]}")
        out("    " + _("error: {error}").format(error=message.error[:300]))
    out(_("Retry one with `csatbot outbox retry ID` once its cause is mended."))
    return 0


def cmd_outbox_retry(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    if not retry_failed(ctx, args.id):
        err(_("Message #{id} is not waiting for a retry (see `csatbot outbox failed`).").format(id=args.id))
        return 1
    out(_("Message #{id} is queued again; the next delivery run sends it.").format(id=args.id))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    outbox = sub.add_parser("outbox", help=_("messages csatbot could not deliver")).add_subparsers(
        dest="action", required=True)
    failed = outbox.add_parser("failed", help=_("list the messages that failed for good, the latest first"))
    failed.add_argument("--json", action="store_true")
    failed.add_argument("--limit", type=int, default=100)
    failed.set_defaults(run=cmd_outbox_failed)
    retry = outbox.add_parser("retry", help=_("queue a failed message again"))
    retry.add_argument("id", type=int, help=_("the message id `outbox failed` shows"))
    retry.set_defaults(run=cmd_outbox_retry)
