"""The quarterly analysis and the annual report as people see them: the sections of the
analysis as neutral cards (the management-review PDF prints all of them, the channel post
shows the headline), its charts, and the workbook behind every number."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.complaints.statistics import failure_mode_names
from bot.complaints.terms import CAUSES, MILESTONE_NAMES
from bot.core import charts, outbox
from bot.core.i18n import N_, gettext_for, pick
from bot.core.texts import score_text
from bot.core.views import Card, Context, Field, FieldList, Message, Paragraph, Table
from bot.reports import workbook as xl
from bot.reports.analysis import Analysis, CustomerLine, analyse
from bot.reports.indicators import ReportPeriod
from bot.scorecard.answers import CATEGORY_NAMES, grade_bands, grade_name, signed
from bot.scorecard.engine import CATEGORIES

TITLES = {"quarter": N_("Quarterly customer satisfaction analysis · {period}"),
          "year": N_("Annual customer satisfaction report · {period}"),
          "review": N_("Customer satisfaction for management review · {period}")}
FILE_STEMS = {"quarter": "quarterly-analysis", "year": "annual-report", "review": "management-review"}
SHOWN = 10  # lines of a list in a channel post; the workbook has them all
UNCLASSIFIED = N_("not classified")


def title(analysis: Analysis, locale: str) -> str:
    return gettext_for(locale)(TITLES[analysis.period.kind]).format(period=analysis.period.label)


def _score(value: float | None) -> str:
    return "—" if value is None else score_text(value)


def _customer(line: CustomerLine, locale: str) -> str:
    return f"{line.code} {pick(locale, line.name_zh, line.name_en)}"


def _lost_text(line: CustomerLine, locale: str) -> str:
    _ = gettext_for(locale)
    return ", ".join(f"{_(CATEGORY_NAMES[c])} −{score_text(line.lost[c])}" for c in CATEGORIES if line.lost.get(c))


def headline(analysis: Analysis, locale: str) -> FieldList:
    """Mean, change, customers scored and the count per grade."""
    _ = gettext_for(locale)
    numbers = analysis.numbers
    change = _("Change against last year") if analysis.period.kind != "quarter" else _("Change against last quarter")
    fields = [Field(_("Mean score"), _score(numbers["mean_score"])), Field(change, signed(numbers["mean_change"])),
              Field(_("Customers scored"), str(numbers["customers"])),
              Field(_("Target"), f"{numbers['target']:g}")]
    fields += [Field(grade_name(analysis.rules, key, locale), str(n)) for key, n in numbers["grades"].items()]
    return FieldList(fields)


def sections(analysis: Analysis, locale: str, *, shown: int | None = None) -> list[Card]:
    """Every section of the report; `shown` cuts each list (and says so) for a channel post."""
    _ = gettext_for(locale)
    numbers, rules, yearly = analysis.numbers, analysis.rules, analysis.period.kind != "quarter"

    def cut(rows: list[Any]) -> tuple[list[Any], list[Context]]:
        if shown is None or len(rows) <= shown:
            return rows, []
        return rows[:shown], [Context(_("…and {n} more: every line is in the workbook.").format(n=len(rows) - shown))]

    trend = [Field(month, _score(value)) for month, value, _n in analysis.monthly_means if value is not None]
    cards = [Card(_("Indicators"), [headline(analysis, locale),
                                    Paragraph(_("Mean score by month"), strong=True),
                                    FieldList(trend) if trend else Paragraph(_("No month of the period is scored."))])]
    target = numbers["target"]
    below = [line for line in analysis.customers if line.below_target]
    rows, more = cut(below)
    if yearly:
        table = Table([_("Customer"), _("Monthly mean"), _("Survey"), _("Annual score"), _("Grade")],
                      [[_customer(line, locale), _score(line.monthly_mean), _score(line.survey_score),
                        _score(line.score), grade_name(rules, line.grade, locale)] for line in rows])
        intro = _("Customers below the annual target ({target:g}), for management review:").format(target=target)
    else:
        table = Table([_("Customer"), _("Score"), _("Grade"), _("Points lost")],
                      [[_customer(line, locale), _score(line.score), grade_name(rules, line.grade, locale),
                        _lost_text(line, locale)] for line in rows])
        intro = _("Customers below target ({target:g}):").format(target=target)
    cards.append(Card(_("Customers below target"), [Paragraph(intro), table, *more] if below else
                      [Paragraph(_("No customer is below target ({target:g}).").format(target=target))]))
    fell = analysis.grade_fell
    rows, more = cut(fell)
    cards.append(Card(_("Customers whose grade fell"), [
        Table([_("Customer"), _("Before"), _("Now")],
              [[_customer(line, locale), f"{_score(line.before)} {grade_name(rules, line.before_grade, locale)}",
                f"{_score(line.score)} {grade_name(rules, line.grade, locale)}"] for line in rows]), *more]
        if fell else [Paragraph(_("No customer's grade fell against the period before."))]))
    lost = analysis.lost_by_event
    rows, more = cut(lost)
    cards.append(Card(_("Points lost by event type"), [
        Table([_("Event"), _("Events"), _("Points"), _("Cumulative")],
              [[pick(locale, r["name_zh"], r["name_en"]), str(r["count"]), score_text(r["value"]),
                f"{r['cumulative_pct']}%"] for r in rows]), *more] if lost else
        [Paragraph(_("No event took points in the period."))]))
    cards.append(complaints_card(analysis, locale, shown))
    surveyed = analysis.surveyed
    rows, more = cut(surveyed)
    if yearly:
        survey_intro = _("{n} customer(s) surveyed; the annual score blends the survey in at {weight:g} %.").format(
            n=len(surveyed), weight=100 * rules.survey_weight)
        survey_table = Table([_("Customer"), _("Survey"), _("Monthly mean"), _("Annual score")],
                             [[_customer(line, locale), _score(line.survey_score), _score(line.monthly_mean),
                               _score(line.score)] for line in rows])
    else:
        survey_intro = _("{n} customer(s) surveyed in the quarter.").format(n=len(surveyed))
        survey_table = Table([_("Customer"), _("Survey"), _("Score")],
                             [[_customer(line, locale), _score(line.survey_score), _score(line.score)]
                              for line in rows])
    cards.append(Card(_("Survey results"), [Paragraph(survey_intro), *([survey_table, *more] if surveyed else [])]))
    actions = numbers["actions"]
    listed = [a for a in analysis.actions if a.overdue or a.management_review]
    rows, more = cut(listed)
    action_parts: list[Any] = [FieldList([Field(_("Opened in the period"), str(actions["opened"])),
                                          Field(_("Closed in the period"), str(actions["closed"])),
                                          Field(_("Open now"), str(actions["open"])),
                                          Field(_("Overdue now"), str(actions["overdue"]))])]
    if listed:
        action_parts += [Paragraph(_("Overdue or for management review:"), strong=True),
                         Table([_("Action"), _("Customer"), _("Due"), _("Status")],
                               [[f"#{a.id} {a.title}", a.customer, a.due.isoformat() if a.due else "—", a.status]
                                for a in rows]), *more]
    cards.append(Card(_("Corrective actions"), action_parts))
    return cards


def complaints_card(analysis: Analysis, locale: str, shown: int | None = None) -> Card:
    """The period's complaints: count, by cause and failure mode, deadlines kept."""
    _ = gettext_for(locale)
    stats = analysis.complaints
    parts: list[Any] = [FieldList([Field(_("Complaints received"), str(stats["count"]))])]
    limit = shown or 50
    if stats["count"]:
        parts.append(Table([_("Cause"), _("Count"), _("Cumulative")],
                           [[_(CAUSES.get(r["key"]) or UNCLASSIFIED), str(int(r["value"])), f"{r['cumulative_pct']}%"]
                            for r in stats["by_cause"][:limit]]))
        names = failure_mode_names(analysis.failure_modes, locale)
        parts.append(Table([_("Failure mode"), _("Count"), _("Cumulative")],
                           [[names.get(r["key"]) or _(UNCLASSIFIED), str(int(r["value"])), f"{r['cumulative_pct']}%"]
                            for r in stats.get("by_failure_mode", [])[:limit]]))
    kept = [[_(MILESTONE_NAMES.get(key, key)), str(v["met"]), str(v["breached"]),
             f"{v['compliance_pct']}%" if v["compliance_pct"] is not None else "—"]
            for key, v in stats["sla"].items() if v["met"] or v["breached"]]
    if kept:
        parts.append(Table([_("Deadline"), _("Met"), _("Breached"), _("Compliance")], kept))
    return Card(_("Complaints"), parts)


def report_charts(analysis: Analysis, locale: str) -> list[tuple[str, bytes]]:
    """The mean by month against the target, the grades by month, the Pareto of lost points
    and of complaint causes (those with something to show)."""
    _ = gettext_for(locale)
    rules, label = analysis.rules, analysis.period.label
    months = [m for m, _v, _n in analysis.monthly_means]
    drawn = []
    if any(value is not None for _m, value, _n in analysis.monthly_means):
        name = _("Mean score by month · {period}").format(period=label)
        drawn.append((name, charts.trend_chart(name, months, [v for _m, v, _n in analysis.monthly_means],
                                               rules.monthly_target, grade_bands(rules, locale), _("Target"),
                                               _("Mean score"))))
        name = _("Customers per grade by month · {period}").format(period=label)
        drawn.append((name, charts.grade_distribution_chart(name, months, grade_bands(rules, locale),
                                                            [analysis.grades_by_month[m] for m in months],
                                                            _("Customers"))))
    if analysis.lost_by_event:
        name = _("Points lost by event type · {period}").format(period=label)
        rows = analysis.lost_by_event[:12]
        drawn.append((name, charts.pareto_chart(
            name, [charts.short_label(pick(locale, r["name_zh"], r["name_en"]), 16) for r in rows],
            [r["value"] for r in rows], [r["cumulative_pct"] for r in rows], _("Points"), _("Cumulative %"),
            counts=False)))
    if analysis.complaints["by_cause"]:
        name = _("Complaints by cause · {period}").format(period=label)
        rows = analysis.complaints["by_cause"]
        drawn.append((name, charts.pareto_chart(name, [_(CAUSES.get(r["key"]) or UNCLASSIFIED) for r in rows],
                                                [r["value"] for r in rows], [r["cumulative_pct"] for r in rows],
                                                _("Count"), _("Cumulative %"))))
    return drawn


def analysis_message(analysis: Analysis, locale: str) -> Message:
    """The channel post: the headline and each section's first lines; the rest is in the thread."""
    _ = gettext_for(locale)
    numbers = analysis.numbers
    cards = sections(analysis, locale, shown=5)
    parts: list[Any] = []
    for card in cards:
        parts += [Paragraph(card.title, strong=True), *card.parts]
    parts.append(Context(_("The charts and the workbook behind every number are in the thread.")))
    text = _("{title}: mean score {mean}, {n} below target").format(
        title=title(analysis, locale), mean=_score(numbers["mean_score"]), n=len(numbers["below_target"]))
    return Message(text=text, cards=[Card(title=title(analysis, locale), parts=parts)])


def analysis_workbook(analysis: Analysis, locale: str, tz: ZoneInfo) -> bytes:
    """Every number of the report: the indicators, each customer's months and period score,
    the lost points by event, the complaints and the corrective actions."""
    _ = gettext_for(locale)
    book = xl.new_workbook()
    rules, numbers = analysis.rules, analysis.numbers
    sheet = book.create_sheet(_("Indicators"))
    xl.text(sheet, 1, 1, title(analysis, locale), bold=True)
    rows: list[tuple[str, Any]] = [(_("Mean score"), numbers["mean_score"]), (_("Change"), numbers["mean_change"]),
                                   (_("Customers scored"), numbers["customers"]), (_("Target"), numbers["target"])]
    rows += [(grade_name(rules, key, locale), n) for key, n in numbers["grades"].items()]
    rows += [(_("Complaints received"), numbers["complaints"]["count"]),
             (_("Figures still missing"), numbers["figures_missing"])]
    rows += [(label, numbers["actions"][key]) for key, label in (("opened", _("Actions opened")),
                                                                 ("closed", _("Actions closed")),
                                                                 ("open", _("Actions open")),
                                                                 ("overdue", _("Actions overdue")))]
    for index, (label, value) in enumerate(rows, start=3):
        xl.text(sheet, index, 1, label, box=True)
        xl.number(sheet, index, 2, value, xl.ONE_DECIMAL if isinstance(value, float) else "0", box=True)
    start = len(rows) + 4
    xl.header(sheet, start, [_("Month"), _("Mean score"), _("Customers scored")], freeze=False, filters=False)
    for index, (month, value, count) in enumerate(analysis.monthly_means, start=start + 1):
        xl.text(sheet, index, 1, month, box=True)
        xl.number(sheet, index, 2, value, box=True)
        xl.number(sheet, index, 3, count, "0", box=True)
    xl.widths(sheet, [28, 14, 16])

    months = [m for m, _v, _n in analysis.monthly_means]
    sheet = book.create_sheet(_("Customers"))
    columns = [_("Code"), _("Customer"), *months, _("Monthly mean"), _("Survey"), _("Score"), _("Grade"),
               _("Below target"), _("Before"), _("Grade before"), _("Grade fell"),
               *(_(CATEGORY_NAMES[c]) + " −" for c in CATEGORIES)]
    xl.header(sheet, 1, columns)
    for index, line in enumerate(analysis.customers, start=2):
        xl.text(sheet, index, 1, line.code)
        xl.text(sheet, index, 2, pick(locale, line.name_zh, line.name_en))
        for offset, month in enumerate(months, start=3):
            xl.number(sheet, index, offset, line.months.get(month))
        at = 3 + len(months)
        xl.number(sheet, index, at, line.monthly_mean)
        xl.number(sheet, index, at + 1, line.survey_score)
        xl.number(sheet, index, at + 2, line.score)
        xl.text(sheet, index, at + 3, grade_name(rules, line.grade, locale))
        xl.text(sheet, index, at + 4, _("yes") if line.below_target else "")
        xl.number(sheet, index, at + 5, line.before)
        xl.text(sheet, index, at + 6, grade_name(rules, line.before_grade, locale) if line.before_grade else "")
        xl.text(sheet, index, at + 7, _("yes") if line.grade_fell else "")
        for offset, category in enumerate(CATEGORIES, start=at + 8):
            xl.number(sheet, index, offset, line.lost.get(category, 0.0))
    xl.widths(sheet, [10, 28, *(9 for _m in months), 12, 9, 9, 12, 10, 9, 12, 10, *(12 for _c in CATEGORIES)])

    sheet = book.create_sheet(_("Points lost"))
    xl.header(sheet, 1, [_("Event"), _("Category"), _("Events"), _("Points"), _("Cumulative %")])
    for index, r in enumerate(analysis.lost_by_event, start=2):
        xl.text(sheet, index, 1, pick(locale, r["name_zh"], r["name_en"]))
        xl.text(sheet, index, 2, _(CATEGORY_NAMES[r["category"]]) if r["category"] in CATEGORY_NAMES else "")
        xl.number(sheet, index, 3, r["count"], "0")
        xl.number(sheet, index, 4, r["value"])
        xl.number(sheet, index, 5, r["cumulative_pct"])
    xl.widths(sheet, [36, 24, 10, 10, 14])

    sheet = book.create_sheet(_("Complaints"))
    at = 1
    stats = analysis.complaints
    names = failure_mode_names(analysis.failure_modes, locale)
    for heading, key, label in ((_("Cause"), "by_cause", lambda k: _(CAUSES.get(k) or UNCLASSIFIED)),
                                (_("Failure mode"), "by_failure_mode", lambda k: names.get(k) or _(UNCLASSIFIED)),
                                (_("Customer"), "by_customer", lambda k: k)):
        xl.header(sheet, at, [heading, _("Count"), _("Cumulative %")], freeze=False, filters=False)
        for r in stats.get(key, []):
            at += 1
            xl.text(sheet, at, 1, label(r["key"]))
            xl.number(sheet, at, 2, r["value"], "0")
            xl.number(sheet, at, 3, r["cumulative_pct"])
        at += 2
    xl.header(sheet, at, [_("Deadline"), _("Met"), _("Breached"), _("Open"), _("Not needed"), _("Compliance %")],
              freeze=False, filters=False)
    for key, v in stats["sla"].items():
        at += 1
        xl.text(sheet, at, 1, _(MILESTONE_NAMES.get(key, key)))
        for offset, field in enumerate(("met", "breached", "open", "not_needed"), start=2):
            xl.number(sheet, at, offset, v[field], "0")
        xl.number(sheet, at, 6, v["compliance_pct"])
    xl.widths(sheet, [30, 10, 12, 10, 12, 14])

    sheet = book.create_sheet(_("Corrective actions"))
    xl.header(sheet, 1, [_("Number"), _("Action"), _("Customer"), _("Department"), _("Status"), _("Opened"), _("Due"),
                         _("Closed"), _("Overdue"), _("Management review")])
    for index, a in enumerate(analysis.actions, start=2):
        xl.number(sheet, index, 1, a.id, "0")
        xl.text(sheet, index, 2, a.title, wrap=True)
        xl.text(sheet, index, 3, a.customer)
        xl.text(sheet, index, 4, a.department)
        xl.text(sheet, index, 5, a.status)
        for offset, day in enumerate((a.opened, a.due, a.closed), start=6):
            xl.moment(sheet, index, offset, day, tz)
        xl.text(sheet, index, 9, _("yes") if a.overdue else "")
        xl.text(sheet, index, 10, _("yes") if a.management_review else "")
    xl.widths(sheet, [8, 50, 10, 20, 12, 12, 12, 12, 9, 12])
    return xl.to_bytes(book)


def analysis_key(period: ReportPeriod) -> str:
    return f"analysis:{period.kind}:{period.label}"


def queue_analysis(session: Session, period: ReportPeriod, now: dt.datetime, tz: ZoneInfo, locale: str,
                   channel: str, key: str) -> Analysis:
    """The analysis under `key` in the channel; its charts and workbook in the thread."""
    analysis = analyse(session, period, now, tz)
    outbox.enqueue(session, key, "post", channel, analysis_message(analysis, locale), now)
    for index, (name, png) in enumerate(report_charts(analysis, locale)):
        outbox.enqueue(session, f"{key}:chart:{index}", "image", channel, None, now, thread_of=key, image=png,
                       image_title=name)
    outbox.enqueue(session, f"{key}:workbook", "image", channel, None, now, thread_of=key,
                   image=analysis_workbook(analysis, locale, tz), image_title=title(analysis, locale),
                   file_name=f"{FILE_STEMS[period.kind]}-{period.label}.xlsx")
    return analysis


def review_pack(analysis: Analysis, locale: str, tz: ZoneInfo, made_at: dt.datetime) -> tuple[bytes, bytes]:
    """The printable report (every section, every chart) and the workbook behind it: the
    management-review pack of a year, or the same for a quarter."""
    from bot.reports.pdf import render_pdf

    _ = gettext_for(locale)
    subtitle = _("{n} customers scored · made {when} · every number is in the workbook that comes with it").format(
        n=analysis.numbers["customers"], when=made_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"))
    document = render_pdf(title(analysis, locale), subtitle, sections(analysis, locale),
                          report_charts(analysis, locale), locale)
    return document, analysis_workbook(analysis, locale, tz)
