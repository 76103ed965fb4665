"""`csatbot wecom …`: the app's menu, the group chat that is the quality channel in WeCom, and
people's departments read from WeCom's address book."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.conversation.menu import app_menu
from bot.core.i18n import Gettext
from bot.core.ports import DeliveryError
from bot.core.settings import Settings
from bot.people.directory import sync_departments
from handlers.cli.common import err, open_context, out
from handlers.wecom.menu import wecom_menu
from handlers.wecom.signing import Signer


def _wecom(settings: Settings, _: Gettext) -> Any:
    ctx = open_context(settings, _)
    through = getattr(ctx.messenger, "wecom", None)
    if through is None:
        err(_("WeCom is not configured: set WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN and "
              "WECOM_AES_KEY (`csatbot config check` names what is missing)."))
    return ctx, through


def cmd_wecom_menu(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx, through = _wecom(settings, _)
    menu = wecom_menu(app_menu(ctx.locale), settings.public_url, Signer.of(settings))
    if args.show:
        out(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    if through is None:
        return 1
    try:
        through.create_menu(menu)
    except DeliveryError as error:
        err(_("WeCom refused the menu: {error}").format(error=error))
        return 1
    out(_("The app's menu is set: {groups} groups, {entries} entries.").format(
        groups=len(menu["button"]), entries=sum(len(b["sub_button"]) for b in menu["button"])))
    if not settings.public_url:
        out(_("CSATBOT_PUBLIC_URL is not set: the entries that open a form cannot open it in WeCom until it is "
              "(its pages are served at that address)."))
    return 0


def cmd_wecom_chat_create(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    _ctx, through = _wecom(settings, _)
    if through is None:
        return 1
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    if args.owner not in members:
        members.insert(0, args.owner)
    if len(members) < 2:
        err(_("A WeCom group chat needs at least two members: give them with --members."))
        return 1
    try:
        chat = through.create_chat(args.name, args.owner, members, args.chat_id or "")
    except DeliveryError as error:
        err(_("WeCom refused the group chat: {error}").format(error=error))
        return 1
    out(_("Group chat {chat} created with {n} members.").format(chat=chat, n=len(members)))
    out(_("Set CSATBOT_WECOM_QUALITY_CHAT={chat} to make it the quality channel.").format(chat=chat))
    return 0


def cmd_wecom_sync_people(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx, through = _wecom(settings, _)
    if through is None:
        return 1
    try:
        departments = through.departments_of_members()
    except DeliveryError as error:
        err(_("WeCom refused to give the address book: {error} (the app needs the members in its visible "
              "range).").format(error=error))
        return 1
    with ctx.session() as session:
        synced = sync_departments(session, "wecom", departments, dry_run=args.dry_run)
    out((_("Would update the departments of {n} people; {same} are right already.") if args.dry_run else
         _("Updated the departments of {n} people; {same} are right already.")).format(
        n=len(synced.updated), same=synced.unchanged))
    if synced.not_in_people:
        out(_("{n} WeCom members are not in the people list (`csatbot people import` adds them with their "
              "roles): {ids}").format(n=len(synced.not_in_people), ids=", ".join(synced.not_in_people[:20])))
    if synced.not_in_messenger:
        out(_("{n} people are not (or no longer) in WeCom: {ids}").format(
            n=len(synced.not_in_messenger), ids=", ".join(synced.not_in_messenger[:20])))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    wecom = sub.add_parser("wecom", help=_("the WeCom app: its menu and its group chat")).add_subparsers(
        dest="action", required=True)
    menu = wecom.add_parser("menu", help=_("set the app's menu (the commands, in the company's language)"))
    menu.add_argument("--show", action="store_true", help=_("print the menu's JSON instead of setting it"))
    menu.set_defaults(run=cmd_wecom_menu)
    chat = wecom.add_parser("chat", help=_("the group chat that is the quality channel")).add_subparsers(
        dest="chat_action", required=True)
    create = chat.add_parser("create", help=_("create the application group chat (appchat)"))
    create.add_argument("name", help=_("the group's name, e.g. 质量部"))
    create.add_argument("--owner", required=True, help=_("the WeCom userid of the group's owner"))
    create.add_argument("--members", required=True, help=_("WeCom userids, separated by commas"))
    create.add_argument("--chat-id", help=_("the chatid to give it (letters and digits); WeCom picks one if left out"))
    create.set_defaults(run=cmd_wecom_chat_create)
    sync = wecom.add_parser("sync-people", help=_("read each person's department from WeCom's address book"))
    sync.add_argument("--dry-run", action="store_true", help=_("say what would change, change nothing"))
    sync.set_defaults(run=cmd_wecom_sync_people)
