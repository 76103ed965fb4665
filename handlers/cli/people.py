"""`csatbot` commands: people, customers and deputies."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from bot.core.i18n import N_, Gettext
from bot.core.settings import Settings
from bot.people import contacts, directory
from handlers.cli.common import (
    dump_json,
    err,
    import_file,
    open_context,
    out,
    print_rows,
)


def cmd_people_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    return import_file(settings, _, args.file, directory.import_people, N_("people"))


def cmd_customers_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    return import_file(settings, _, args.file, directory.import_customers, N_("customers"))


def cmd_contacts_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    return import_file(settings, _, args.file, contacts.import_contacts, N_("contacts"))


def cmd_contacts_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    with open_context(settings, _).session() as session:
        rows = contacts.list_contacts(session)
    if args.json:
        dump_json(rows)
    else:
        print_rows(rows, ["customer", "name", "phone", "email", "role", "language"])
    return 0


def cmd_people_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    with open_context(settings, _).session() as session:
        rows = directory.list_people(session)
    if args.json:
        dump_json(rows)
    else:
        print_rows(rows, ["slack_user_id", "name", "roles", "department", "locale"])
    return 0


def cmd_customers_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    with open_context(settings, _).session() as session:
        rows = directory.list_customers(session)
    if args.json:
        dump_json(rows)
    else:
        print_rows(rows, ["code", "name_zh", "name_en", "segment", "owner_name"])
    return 0


def cmd_deputy_add(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.deputies import add_delegation

    ctx = open_context(settings, _)
    try:
        start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    except ValueError:
        err(_("Dates must be YYYY-MM-DD."))
        return 2
    with ctx.session() as session:
        person = directory.find_person(session, args.person)
        if person is None:
            err(_("{value} is not in the people list.").format(value=args.person))
            return 1
        deputy = directory.find_person(session, args.deputy)
        add_delegation(session, person, deputy, args.role, start, end, None, ctx.now(), by_administrator=True)
        names = (deputy.name if deputy else "", person.name)
    out(_("Deputy recorded: {deputy} stands in for {person} from {start} to {end} (entered from the command "
          "line, as an administrator).").format(deputy=names[0], person=names[1], start=start, end=end))
    return 0


def cmd_deputy_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.people.deputies import list_delegations

    with open_context(settings, _).session() as session:
        dump_json(list_delegations(session))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    for name, title, importer, lister in (("people", N_("people"), cmd_people_import, cmd_people_list),
                                          ("customers", N_("customers"), cmd_customers_import, cmd_customers_list),
                                          ("contacts", N_("the customers' contacts the surveys ask"),
                                           cmd_contacts_import, cmd_contacts_list)):
        group = sub.add_parser(name, help=_(title)).add_subparsers(dest="action", required=True)
        imp = group.add_parser("import", help=_("import from a CSV or XLSX file (all or nothing)"))
        imp.add_argument("file")
        imp.set_defaults(run=importer)
        lst = group.add_parser("list", help=_("list them; --json for scripts"))
        lst.add_argument("--json", action="store_true")
        lst.set_defaults(run=lister)

    contacts_import = imports.add_parser("contacts", help=_("the customers' contacts: columns customer,name,phone,"
                                                            "email,role,language (all or nothing)"))
    contacts_import.add_argument("file")
    contacts_import.set_defaults(run=cmd_contacts_import)

    deputy = sub.add_parser("deputy", help=_("hand a role to a deputy for a period")).add_subparsers(dest="action",
                                                                                                 required=True)
    deputy_add = deputy.add_parser("add", help=_("--person U… --deputy U… --role KEY --from DATE --to DATE"))
    deputy_add.add_argument("--person", required=True, help=_("who hands over: Slack id, e-mail or name"))
    deputy_add.add_argument("--deputy", required=True, help=_("who stands in: Slack id, e-mail or name"))
    deputy_add.add_argument("--role", required=True, help=_("the role handed over, e.g. finance"))
    deputy_add.add_argument("--from", dest="start", required=True, help=_("first day, YYYY-MM-DD"))
    deputy_add.add_argument("--to", dest="end", required=True, help=_("last day, YYYY-MM-DD"))
    deputy_add.set_defaults(run=cmd_deputy_add)
    deputy.add_parser("list", help=_("every hand-over, as JSON")).set_defaults(run=cmd_deputy_list)
