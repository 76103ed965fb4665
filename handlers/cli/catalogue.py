"""`csatbot rules …` and `csatbot metrics …`: the scorecard rule set and the metric catalogue,
changed from a month on without SQL."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.core.i18n import Gettext, pick
from bot.core.periods import is_month
from bot.core.settings import Settings
from bot.core.texts import T, UserError
from handlers.cli.common import dump_json, err, open_context, out, run_import


def _month(_: Gettext, value: str | None, default: str) -> str:
    month = value or default
    if not is_month(month):
        raise UserError(T("Month {value!r} is not YYYY-MM.", value=month))
    return month


def _pairs(items: list[str]) -> dict[str, str]:
    changes = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(T("{item!r}: write KEY=VALUE, e.g. monthly_target=85.", item=item))
        changes[key.strip()] = value.strip()
    if not changes:
        raise UserError(T("Nothing to change: give KEY=VALUE pairs."))
    return changes


def _number(value: float) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def cmd_rules_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.rules import describe, in_force, versions

    ctx = open_context(settings, _)
    with ctx.session() as session:
        if args.all:
            data: Any = versions(session)
        else:
            data = describe(in_force(session, _month(_, args.month, ctx.local_today().strftime("%Y-%m")))[0])
    if args.json:
        dump_json(data)
        return 0
    for rules in data if args.all else [data]:
        out(_("Rule set version {version}, valid from {date}").format(version=rules["version"],
                                                                       date=rules["valid_from"]))
        out("  " + "  ".join(f"category.{k}={_number(v)}" for k, v in rules["categories"].items()))
        out(f"  monthly_target={_number(rules['monthly_target'])}  annual_target={_number(rules['annual_target'])}  "
            f"survey_weight={_number(rules['survey_weight'])}  "
            f"abnormal_streak_months={rules['abnormal_streak_months']}")
        for grade in rules["grades"]:
            out(f"  grade.{grade['key']}={_number(grade['min_score'])}  "
                f"{pick(settings.locale, grade['name_zh'], grade['name_en'])}")
        for event in rules["events"]:
            out(f"  event.{event['key']}={_number(event['points'])}  ({event['category']})  "
                f"{pick(settings.locale, event['name_zh'], event['name_en'])}")
    return 0


def _report_rules(_: Gettext, result: Any) -> int:
    if result.version is None:
        out(_("Nothing changed: the rules in force from {month} are already so.").format(month=result.valid_from))
        return 0
    out(_("Rule set version {version} is in force from {month}; earlier months keep their rules.").format(
        version=result.version, month=result.valid_from))
    if result.until:
        out(_("It applies until {month}, where a later version is already in force: change that one too if the "
              "change should carry on.").format(month=result.until))
    for key, (before, after) in result.changed.items():
        out(f"  {key}: {before} → {after}")
    return 0


def cmd_rules_set(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.rules import change_rules

    changes = _pairs(args.changes)
    ctx = open_context(settings, _)
    with ctx.session() as session:
        result = change_rules(session, _month(_, args.valid_from, ctx.local_today().strftime("%Y-%m")), changes,
                              ctx.now())
    return _report_rules(_, result)


def cmd_rules_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.scorecard.rules import import_rules

    ctx = open_context(settings, _)
    with ctx.session() as session:
        result = import_rules(session, Path(args.file), _month(_, args.valid_from,
                                                               ctx.local_today().strftime("%Y-%m")), ctx.now())
    return _report_rules(_, result)


def cmd_metrics_list(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.datacall.catalogue import catalogue

    ctx = open_context(settings, _)
    with ctx.session() as session:
        rows = catalogue(session, _month(_, args.month, ctx.local_today().strftime("%Y-%m")))
    if args.json:
        dump_json(rows)
        return 0
    for row in rows:
        flags = [] if row["active"] else [_("inactive")]
        if not row["in_monthly_call"]:
            flags.append(_("not in the monthly call"))
        target = _number(row["target"]) if row["target"] is not None else "—"
        out(f"{row['key']}  {pick(settings.locale, row['name_zh'], row['name_en'])}  [{row['unit']}]  "
            f"{_number(row['min'])}–{_number(row['max'])}  " + _("target {target}").format(target=target)
            + f"  {row['owner_role']}/{row['scope']}" + (f"  ({', '.join(flags)})" if flags else ""))
    return 0


def cmd_metrics_set(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.datacall.catalogue import change_metric

    changes = _pairs(args.changes)
    ctx = open_context(settings, _)
    with ctx.session() as session:
        month = _month(_, args.valid_from, ctx.local_today().strftime("%Y-%m"))
        result = change_metric(session, args.key, changes, month, ctx.now())
    if not result.changed:
        out(_("Nothing changed."))
        return 0
    for field, (before, after) in result.changed.items():
        note = " " + _("(from {month})").format(month=month) if field == "target" else ""
        out(f"{result.key}.{field}: {before} → {after}{note}")
    return 0


def cmd_metrics_import(settings: Settings, _: Gettext, args: argparse.Namespace) -> int:
    from bot.datacall.catalogue import import_metrics

    if args.valid_from and not is_month(args.valid_from):
        err(_("Month {value!r} is not YYYY-MM.").format(value=args.valid_from))
        return 2
    return run_import(settings, _,
                      lambda session, ctx: import_metrics(session, Path(args.file),
                                                          args.valid_from or ctx.local_today().strftime("%Y-%m"),
                                                          ctx.now()),
                      lambda r: _("Metric catalogue: {created} new, {updated} changed, {unchanged} unchanged.")
                      .format(created=r.created, updated=r.updated, unchanged=r.unchanged), dry_run=args.dry_run)


def add_commands(sub: Any, imports: Any, _: Gettext) -> None:
    rules = sub.add_parser("rules", help=_("the scorecard rule set: points, targets, grade bands")).add_subparsers(
        dest="action", required=True)
    listing = rules.add_parser("list", help=_("the rules in force in a month, or every version"))
    listing.add_argument("--month", help=_("YYYY-MM (default: this month)"))
    listing.add_argument("--all", action="store_true", help=_("every version"))
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_rules_list)
    setting = rules.add_parser("set", help=_("a new version from a month: KEY=VALUE … (monthly_target=85, "
                                             "event.line_hold=6, grade.satisfied=75, category.kpi=20)"))
    setting.add_argument("changes", nargs="*", help=_("changes as field=value"))
    setting.add_argument("--from", dest="valid_from", help=_("YYYY-MM the version is valid from (default: this "
                                                             "month)"))
    setting.set_defaults(run=cmd_rules_set)
    loading = rules.add_parser("import", help=_("a new version from a TOML file shaped like [scorecard] and "
                                                "[[grades]] in the defaults"))
    loading.add_argument("file")
    loading.add_argument("--from", dest="valid_from", help=_("YYYY-MM the version is valid from (default: this "
                                                             "month)"))
    loading.set_defaults(run=cmd_rules_import)

    metrics = sub.add_parser("metrics", help=_("the metric catalogue: names, units, ranges, owners, targets")
                             ).add_subparsers(dest="action", required=True)
    listing = metrics.add_parser("list", help=_("every figure with its target in force in a month"))
    listing.add_argument("--month", help=_("YYYY-MM (default: this month)"))
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_metrics_list)
    setting = metrics.add_parser("set", help=_("change a figure: KEY FIELD=VALUE … (target=150, name_en=…, "
                                               "in_monthly_call=no)"))
    setting.add_argument("key", help=_("the key of the entry to change"))
    setting.add_argument("changes", nargs="*", help=_("changes as field=value"))
    setting.add_argument("--from", dest="valid_from", help=_("YYYY-MM a new target is valid from (default: this "
                                                             "month)"))
    setting.set_defaults(run=cmd_metrics_set)
    loading = metrics.add_parser("import", help=_("CSV/XLSX with key and any of target, name_zh, name_en, unit, "
                                                  "min, max, higher_is_better, owner_role, scope, "
                                                  "in_monthly_call, active, visibility"))
    loading.add_argument("file")
    loading.add_argument("--from", dest="valid_from", help=_("YYYY-MM new targets are valid from (default: this "
                                                             "month)"))
    loading.add_argument("--dry-run", action="store_true", help=_("show what would change, write nothing"))
    loading.set_defaults(run=cmd_metrics_import)
