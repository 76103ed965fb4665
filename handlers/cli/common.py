"""What every command shares: output, the context, all-or-nothing imports."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.i18n import Gettext
from bot.core.settings import Settings
from bot.core.spreadsheets import format_errors
from bot.core.texts import display_width, pad
from handlers.bootstrap import bootstrap, require_current_schema
from storage.db import make_engine

ENGINES: list[Engine] = []


def engine_for(url: str) -> Engine:
    """An engine that main() disposes of when the command ends."""
    engine = make_engine(url)
    ENGINES.append(engine)
    return engine


def out(line: str = "") -> None:
    print(line, flush=True)


def err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def dump_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def open_context(settings: Settings, _: Gettext, now: dt.datetime | None = None) -> AppContext:
    ctx = bootstrap(settings, clock=FixedClock(now) if now else None, engine=engine_for(settings.database_url))
    require_current_schema(ctx.engine, _)
    return ctx


def run_import(settings: Settings, _: Gettext, run: Callable[[Any, AppContext], Any],
                summary: Callable[[Any], str], dry_run: bool = False) -> int:
    """All or nothing: a bad row rolls the whole file back and is reported by row number;
    a dry run rolls back what would have been written and says what it would have been."""
    ctx = open_context(settings, _)
    with ctx.session() as session:
        result = run(session, ctx)
        if not result.ok or dry_run:
            session.rollback()
    if not result.ok:
        return report_row_errors(_, result.errors)
    out(summary(result))
    if dry_run:
        out(_("Dry run: nothing was written."))
    return 0


def import_file(settings: Settings, _: Gettext, path: str, importer: Any, what: str) -> int:
    return run_import(settings, _, lambda session, ctx: importer(session, Path(path)),
                       lambda r: _("Imported {what}: {created} new, {updated} updated.").format(
                           what=_(what), created=r.created, updated=r.updated))


def report_row_errors(_: Gettext, errors: list[Any]) -> int:
    err(_("Nothing was imported; fix these rows and run the import again:"))
    for line in format_errors(errors, _):
        err("  " + line)
    return 1


def print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        return ";".join(value) if isinstance(value, list) else str(value)

    table = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [display_width(row[i]) for row in table]) for i, c in enumerate(columns)]
    out("  ".join(pad(c, widths[i]) for i, c in enumerate(columns)).rstrip())
    for row in table:
        out("  ".join(pad(v, widths[i]) for i, v in enumerate(row)).rstrip())


def year_number(text: str) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year between 1900 and 2200")
    return int(text)
