"""`csatbot export …`: the procedure's Excel forms written to a file."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from bot.core.i18n import Gettext
from bot.core.periods import is_month
from bot.core.settings import Settings
from handlers.cli.common import dump_json, err, open_context, out


def cmd_export(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.core.i18n import normalize_locale
    from bot.reports.use_cases import make_workbook

    month = getattr(args, "month", None)
    if month is not None and not is_month(month):
        err(_("Month {value!r} is not YYYY-MM.").format(value=month))
        return 2
    start, end = _day(_, getattr(args, "start", None)), _day(_, getattr(args, "end", None))
    if start is False or end is False:
        return 2
    target = Path(args.xlsx)
    if target.suffix.lower() != ".xlsx":
        err(_("{path}: the file's name must end in .xlsx.").format(path=str(target)))
        return 2
    ctx = open_context(settings, _)
    content = make_workbook(ctx, args.kind, normalize_locale(args.locale or settings.locale), month,
                            start or None, end or None, getattr(args, "customer", None) or "")
    try:
        target.write_bytes(content)
    except OSError as error:
        err(_("Could not write {path}: {reason}").format(path=str(target), reason=error.strerror or str(error)))
        return 1
    out(_("Written: {path} ({size} kB)").format(path=str(target), size=max(1, len(content) // 1024)))
    return 0


def _day(_: Gettext, text: str | None) -> dt.date | None | bool:
    """The day given, None when none was, False (said why) when it is not a day."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err(_("{value!r} is not a day (YYYY-MM-DD).").format(value=text))
        return False


def cmd_report(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.core.i18n import normalize_locale
    from bot.reports.use_cases import report_numbers

    if args.out:
        return _write_pack(settings, _, args)
    numbers: dict[str, Any] = report_numbers(open_context(settings, _), args.kind, args.period)
    if args.json:
        dump_json(numbers)
        return 0
    out(_("{period}: {n} customers scored, mean {mean}, change {change}").format(
        period=numbers["period"], n=numbers["customers"], mean=_shown(numbers["mean_score"]),
        change=_shown(numbers["mean_change"], signed=True)))
    locale = normalize_locale(settings.locale)
    out(_("Grades: {grades}").format(grades=", ".join(
        f"{numbers['grade_names'][k][locale]} {v}" for k, v in numbers["grades"].items())))
    out(_("Below target ({target:g}): {codes}").format(target=numbers["target"],
                                                       codes=", ".join(numbers["below_target"]) or "—"))
    complaints = numbers["complaints"]
    out(_("Complaints: {count}; deadlines met/breached: {sla}").format(
        count=complaints["count"], sla=", ".join(f"{k} {v['met']}/{v['breached']}" for k, v in
                                                 complaints["sla"].items())))
    actions = numbers["actions"]
    out(_("Figures missing: {missing}; corrective actions open {open}, overdue {overdue}, opened {opened}, "
          "closed {closed}").format(missing=numbers["figures_missing"], **actions))
    return 0


def _write_pack(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    """`--out DIR`: the PDF and the workbook behind it, for a quarter, a year or management review."""
    from bot.core.i18n import normalize_locale
    from bot.reports.indicators import report_period
    from bot.reports.period_report import FILE_STEMS
    from bot.reports.use_cases import make_report_pack

    if args.kind == "month":
        err(_("--out writes the report of a quarter, a year or management review; a month's forms: csatbot export "
              "scorecard --month YYYY-MM --xlsx FILE."))
        return 2
    period = report_period(args.kind, args.period)
    folder = Path(args.out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        err(_("Could not write {path}: {reason}").format(path=str(folder), reason=error.strerror or str(error)))
        return 1
    pdf, workbook, _title = make_report_pack(open_context(settings, _), period,
                                             normalize_locale(args.locale or settings.locale))
    for extension, content in (("pdf", pdf), ("xlsx", workbook)):
        target = folder / f"{FILE_STEMS[period.kind]}-{period.label}.{extension}"
        try:
            target.write_bytes(content)
        except OSError as error:
            err(_("Could not write {path}: {reason}").format(path=str(target), reason=error.strerror or str(error)))
            return 1
        out(_("Written: {path} ({size} kB)").format(path=str(target), size=max(1, len(content) // 1024)))
    return 0


def _shown(value: float | None, signed: bool = False) -> str:
    """As the bot shows scores: cut to one decimal, never rounded into another grade."""
    from bot.core.texts import score_text

    if value is None:
        return "—"
    return ("+" if value >= 0 else "−") + score_text(abs(value)) if signed else score_text(value)


def add_commands(sub: Any, _imports: Any, _: Gettext) -> None:
    report = sub.add_parser("report", help=_("the numbers of a report: month YYYY-MM, quarter YYYY-Q1…Q4, year YYYY, "
                                             "review YYYY"))
    report.add_argument("kind", choices=["month", "quarter", "year", "review"],
                        help=_("the monthly brief, the quarterly analysis, the annual report or the review pack"))
    report.add_argument("period", help=_("YYYY-MM, YYYY-Q1…Q4 or YYYY"))
    report.add_argument("--json", action="store_true")
    report.add_argument("--out", metavar="DIR", help=_("write the printable report (PDF) and the workbook behind it "
                                                       "into this folder (quarter, year, review)"))
    report.add_argument("--locale", choices=["zh-CN", "en"], help=_("the language of the report (default: the "
                                                                    "company's)"))
    report.set_defaults(run=cmd_report)
    export = sub.add_parser("export", help=_("the procedure's Excel forms")).add_subparsers(dest="kind",
                                                                                            required=True)
    scorecard = export.add_parser("scorecard", help=_("the month's customer satisfaction evaluation form, one sheet "
                                                      "per customer and a summary"))
    scorecard.add_argument("--month", required=True, help=_("YYYY-MM"))
    scorecard.add_argument("--customer", help=_("only this customer (code or name)"))
    complaints = export.add_parser("complaints", help=_("the complaint ledger, every field and deadline"))
    complaints.add_argument("--from", dest="start", help=_("first day received (YYYY-MM-DD); default: the first"))
    complaints.add_argument("--to", dest="end", help=_("last day received (YYYY-MM-DD); default: the last"))
    figures = export.add_parser("figures", help=_("every figure of a month with its versions"))
    figures.add_argument("--month", required=True, help=_("YYYY-MM"))
    for parser in (scorecard, complaints, figures):
        parser.add_argument("--xlsx", required=True, help=_("the file to write"))
        parser.add_argument("--locale", choices=["zh-CN", "en"],
                            help=_("the language of the form (default: the company's)"))
        parser.set_defaults(run=cmd_export)
