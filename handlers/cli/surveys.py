"""`csatbot survey …`: plan a survey, take its answers, see its results, close it."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from bot.core.i18n import Gettext
from bot.core.settings import Settings
from bot.core.spreadsheets import format_errors
from bot.surveys import use_cases
from bot.surveys.answers import QUADRANT_NAMES
from bot.surveys.campaigns import DIMENSION_NAMES, KIND_NAMES
from handlers.cli.common import dump_json, err, open_context, out


def _day(text: str) -> dt.date:
    """argparse's type: it words the error itself ("invalid _day value"), translated."""
    return dt.date.fromisoformat(text)


def cmd_new(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    survey = use_cases.plan_survey(open_context(settings, _), args.kind, args.opens, args.closes,
                                   Path(args.questionnaire) if args.questionnaire else None, seed=args.seed)
    if args.json:
        dump_json(survey)
    else:
        out(_("Survey {id} ({kind}) is open from {opens} to {closes} with {n} items.").format(
            id=survey["id"], kind=_(KIND_NAMES.get(survey["kind"], survey["kind"])), opens=survey["opens"],
            closes=survey["closes"], n=len(survey["items"])))
        out(_("It asks {invited} contacts (drawn with seed {seed}); their owners are sent the questionnaires on "
              "the opening day.").format(invited=survey["invitations"], seed=survey["sample_seed"]))
    return 0


def cmd_show(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    survey = use_cases.show_survey(open_context(settings, _), args.id)
    if args.json:
        dump_json(survey)
        return 0
    status = _("closed") if survey["status"] == "closed" else _("open")
    out(f"#{survey['id']} {_(KIND_NAMES.get(survey['kind'], survey['kind']))} {survey['opens']} – "
        f"{survey['closes']} ({status})")
    for item in survey["items"]:
        text = item["text_zh"] if settings.locale == "zh-CN" else item["text_en"]
        out(f"  {item['key']}  [{_(DIMENSION_NAMES.get(item['dimension'], item['dimension']))}]  {text}")
    out(_("Answered: {answered} of {invited} invited (seed {seed}).").format(
        answered=survey["answered"], invited=survey["invitations"], seed=survey["sample_seed"]))
    return 0


def cmd_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    result = use_cases.take_responses(open_context(settings, _), args.id, Path(args.file))
    if not result.ok:
        err(_("Nothing imported; mend these rows and import again:"))
        for line in format_errors(result.errors, _):
            err("  " + line)
        return 1
    out(_("Answers imported: {created} respondents new, {updated} answered again (their answers replaced).").format(
        created=result.created, updated=result.updated))
    return 0


def _print_results(results: dict[str, Any], _: Gettext) -> None:
    out(_("Survey {id}: CSI {csi}, response rate {rate}").format(
        id=results["survey"], csi=results["csi"] if results["csi"] is not None else "—",
        rate=f"{results['response_rate']:.0%}" if results["response_rate"] is not None else "—"))
    for d in results["dimensions"]:
        shares = ("—" if d["satisfied"] is None
                  else f"{d['satisfied']:.0%} / {d['somewhat']:.0%} / {d['unsatisfied']:.0%}")
        score = "—" if d["score"] is None else d["score"]
        quadrant = f"  [{_(QUADRANT_NAMES[d['quadrant']])}]" if d.get("quadrant") else ""
        out(f"  {_(DIMENSION_NAMES.get(d['key'], d['key']))}: {score}  ({shares}){quadrant}")
    for d in results.get("departments", []):
        shown = d["csi"] if d["csi"] is not None else _("fewer than {n} answers: not shown").format(
            n=results["min_group"])
        out(f"  {d['name']}: {d['invited']}/{d['headcount']} · {d['answered']} · {shown}")
    earlier = [p for p in results.get("trend", []) if p["csi"] is not None]
    if earlier:
        out(_("Earlier surveys of this kind (CSI): {earlier} → this one {csi}").format(
            earlier=" → ".join(f"#{p['survey']} {p['opens'][:7]} {p['csi']:.1f}" for p in earlier),
            csi=results["csi"] if results["csi"] is not None else "—"))


def cmd_results(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    results = use_cases.results(open_context(settings, _), args.id, args.customer)
    if args.json:
        dump_json(results)
    else:
        _print_results(results, _)
    return 0


def cmd_export(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    target = Path(args.xlsx)
    if target.suffix.lower() != ".xlsx":
        err(_("The table is an Excel workbook: give a file name ending in .xlsx."))
        return 2
    target.write_bytes(use_cases.statistics(open_context(settings, _), args.id, args.locale))
    out(_("Wrote {path}.").format(path=target))
    return 0


def cmd_questionnaires(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        err(_("{path} is a file, not a folder.").format(path=folder))
        return 1
    files = use_cases.questionnaire_files(open_context(settings, _), args.id, args.customer, args.locale)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files:
        (folder / name).write_bytes(content)
    out(_("{n} questionnaire(s) written to {path}.").format(n=len(files), path=folder))
    return 0


def cmd_take_questionnaires(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    ctx = open_context(settings, _)
    failed = 0
    for path in args.files:
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            err(f"{path}: {error.strerror or error}")
            failed += 1
            continue
        taken, said = use_cases.take_questionnaire(ctx, content, settings.locale)
        (out if taken else err)(f"{path}: {said}")
        failed += not taken
    return 1 if failed else 0


TEMPLATE_COLUMNS = ["key", "dimension", "text_zh", "text_en", "asks_importance"]


def cmd_template_export(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    """The company's questionnaire as the file `survey template import` takes back."""
    target = Path(args.file)
    items = use_cases.template(open_context(settings, _))
    rows = [[str(item.get(c, "")) if c != "asks_importance" else ("yes" if item.get(c) else "no")
             for c in TEMPLATE_COLUMNS] for item in items]
    if target.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(TEMPLATE_COLUMNS)
        for row in rows:
            sheet.append(row)
        book.save(target)
    else:
        import csv

        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(TEMPLATE_COLUMNS)
            writer.writerows(rows)
    out(_("The questionnaire ({n} items) is in {path}; edit it and run csatbot survey template import {path}.").format(
        n=len(rows), path=target))
    return 0


def cmd_template_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    n = use_cases.replace_template(open_context(settings, _), Path(args.file))
    out(_("The company's questionnaire now has {n} items; surveys planned before keep the items they were planned "
          "with.").format(n=n))
    return 0


def cmd_close(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    results, recorded = use_cases.close(open_context(settings, _), args.id)
    _print_results(results, _)
    out(_("Closed; {n} customers' survey scores recorded for the annual score.").format(n=recorded))
    return 0


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    survey = sub.add_parser("survey", help=_("satisfaction surveys: plan, answers, results")).add_subparsers(
        dest="action", required=True)
    new = survey.add_parser("new", help=_("plan a survey with the company's questionnaire (or one from a file)"))
    new.add_argument("--kind", required=True, help=_("monthly_phone, quarterly, half_year, special or "
                                                     "annual_external"))
    new.add_argument("--opens", type=_day, required=True, help=_("first day, YYYY-MM-DD"))
    new.add_argument("--closes", type=_day, required=True, help=_("last day, YYYY-MM-DD"))
    new.add_argument("--from", dest="questionnaire", help=_("a questionnaire key,dimension,text_zh,text_en"
                                                            "[,asks_importance] (CSV or XLSX)"))
    new.add_argument("--seed", type=int, help=_("the seed of the random draw of contacts (default: a new one, "
                                                "kept on the survey)"))
    new.add_argument("--json", action="store_true")
    new.set_defaults(run=cmd_new)
    show = survey.add_parser("show", help=_("a survey and its items"))
    show.add_argument("id", type=int, help=_("the survey number"))
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_show)
    taking = survey.add_parser("import-responses", help=_("answers collected elsewhere: customer,respondent,item,"
                                                          "rating,importance,competitor,comment"))
    taking.add_argument("id", type=int, help=_("the survey number"))
    taking.add_argument("file")
    taking.set_defaults(run=cmd_import)
    forms = survey.add_parser("questionnaires", help=_("each contact's Excel questionnaire, to send and take back"))
    forms.add_argument("id", type=int, help=_("the survey number"))
    forms.add_argument("--out", required=True, help=_("the folder to write them to"))
    forms.add_argument("--customer", help=_("only this customer's (code or name)"))
    forms.add_argument("--locale", choices=["zh-CN", "en"], help=_("their language (default: each contact's, "
                                                                   "else the company's)"))
    forms.set_defaults(run=cmd_questionnaires)
    take = survey.add_parser("import", help=_("filled Excel questionnaires back: each recorded, or refused with "
                                              "its rows named"))
    take.add_argument("files", nargs="+")
    take.set_defaults(run=cmd_take_questionnaires)
    results = survey.add_parser("results", help=_("CSI, dimensions, shares, competitor, customers"))
    results.add_argument("id", type=int, help=_("the survey number"))
    results.add_argument("--customer", help=_("only this customer's answers (code or name)"))
    results.add_argument("--json", action="store_true")
    results.set_defaults(run=cmd_results)
    exporting = survey.add_parser("export", help=_("the survey statistics table (Excel): every answer, the "
                                                  "dimensions and their shares, a chart"))
    exporting.add_argument("id", type=int, help=_("the survey number"))
    exporting.add_argument("--xlsx", required=True, help=_("the file to write"))
    exporting.add_argument("--locale", choices=["zh-CN", "en"], help=_("the language of the form (default: the "
                                                                       "company's)"))
    exporting.set_defaults(run=cmd_export)
    kept = survey.add_parser("template", help=_("the company's questionnaire: export it, edit it, import it"))
    kept_actions = kept.add_subparsers(dest="template_action", required=True)
    exporting_template = kept_actions.add_parser("export", help=_("write it to a CSV or XLSX file"))
    exporting_template.add_argument("file")
    exporting_template.set_defaults(run=cmd_template_export)
    importing_template = kept_actions.add_parser("import", help=_("replace it from a file: key,dimension,text_zh,"
                                                                  "text_en,asks_importance (all or nothing)"))
    importing_template.add_argument("file")
    importing_template.set_defaults(run=cmd_template_import)
    closing = survey.add_parser("close", help=_("close it: each customer's CSI becomes its survey score"))
    closing.add_argument("id", type=int, help=_("the survey number"))
    closing.set_defaults(run=cmd_close)
