"""Answers to `/csat customer`, `/csat overview` and `/csat metric`: neutral cards, the
charts that go with them, and the JSON the command line prints."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED as CLOSED_ACTIONS
from bot.actions.terms import STATE_NAMES as ACTION_STATE_NAMES
from bot.complaints.terms import STATUS_NAMES
from bot.core import charts
from bot.core.caller import Caller
from bot.core.i18n import N_, Gettext, pick
from bot.core.periods import Period, add_months, months_of_year
from bot.core.roles import Authorizer
from bot.core.texts import T, UserError, score_text
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, Message, Paragraph, Table
from bot.datacall.catalogue import targets_in_force
from bot.people.customers import all_customers, find_customer
from bot.revisits.visits import REASONS as REVISIT_REASONS
from bot.scorecard import stored
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import CATEGORIES, AnnualScore, MonthlyScore, RuleSet, xmr_limits
from storage.models import Complaint, CorrectiveAction, Customer, FigureSubmission, Metric, Revisit

CATEGORY_NAMES = {
    "quality": N_("Quality performance"),
    "delivery": N_("Delivery performance"),
    "kpi": N_("Customer-required performance"),
    "customer_scorecard": N_("Customer scorecard"),
}
COST_METRICS = ("claim_cost", "return_cost", "after_sales_cost")


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def signed(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}".replace("-", "−")


def grade_name(rules: RuleSet, key: str | None, locale: str) -> str:
    if key is None:
        return "—"
    band = next((g for g in rules.grades if g.key == key), None)
    return pick(locale, band.name_zh, band.name_en) if band else key


def grade_bands(rules: RuleSet, locale: str) -> list[charts.Band]:
    ordered = sorted(rules.grades, key=lambda g: g.min_score)
    bands = []
    for index, grade in enumerate(ordered):
        high = ordered[index + 1].min_score if index + 1 < len(ordered) else 100.0
        bands.append(charts.Band(grade.key, pick(locale, grade.name_zh, grade.name_en), grade.min_score, high))
    return bands


@dataclass
class Answer:
    """A card and, when there is one, its chart."""

    message: Message
    chart: bytes | None = None
    chart_title: str = ""


# --- /csat customer ------------------------------------------------------------------------------------


def customer_picker(caller: Caller, query: str, customers: list[Customer], period: str | None,
                    suggestions: bool) -> Message:
    _ = caller._
    if suggestions:
        text = _("No customer matches {query!r}. Did you mean:").format(query=query)
    else:
        text = _("Several customers match {query!r}. Pick one:").format(query=query)
    buttons = [Button(f"{c.code} · {pick(caller.locale, c.name_zh, c.name_en)}", "csat.pick_customer",
                      json.dumps({"code": c.code, "period": period})) for c in customers[:10]]
    parts: list = [Paragraph(text)]
    if buttons:
        parts.append(Actions(buttons))
    else:
        parts.append(Paragraph(_("Check the spelling, or ask a quality engineer whether the customer is registered.")))
    return Message(text=text, cards=[Card(title=_("Which customer?"), parts=parts)])


def resolve_customer(session: Session, caller: Caller, query: str, period: str | None) -> Customer | Message:
    if not query.strip():
        raise UserError(T("Name a customer: /csat customer <code or name> [YYYY-MM | YYYY]"))
    match = find_customer(session, query)
    if match.found is not None:
        return match.found
    if match.candidates:
        return customer_picker(caller, query, match.candidates, period, suggestions=False)
    return customer_picker(caller, query, match.suggestions, period, suggestions=True)


def figure_list(session: Session, caller: Caller) -> Message:
    """The figures `/csat metric` knows, by name in the reader's language, with their keys."""
    _ = caller._
    rows = [[pick(caller.locale, m.name_zh, m.name_en), m.key]
            for m in session.scalars(select(Metric).order_by(Metric.sort_order))]
    title = _("Figures for /csat metric")
    return Message(text=title, cards=[Card(title=title, parts=[
        Table([_("Figure"), _("Key")], rows),
        Context(_("A name or part of one works too: `/csat metric 索赔` or `/csat metric claim cost 2026 ACME`."))])])


def resolve_metric(session: Session, caller: Caller, words: list[str]) -> tuple[Metric, list[str]] | Message:
    """The figure the words begin with: its key, its Chinese or English name (the longest
    that fits, so `On-time deliveries 2026` works), or a part of one that only one figure
    has; the words after it are returned. Several or none: the list to choose from."""
    metrics = list(session.scalars(select(Metric).order_by(Metric.sort_order)))
    for length in range(len(words), 0, -1):
        typed = " ".join(words[:length]).strip().lower()
        for metric in metrics:
            if typed in (metric.key.lower(), metric.name_zh.lower(), metric.name_en.lower()):
                return metric, words[length:]
    typed = words[0].strip().lower()
    partial = [m for m in metrics if typed in m.key.lower() or typed in m.name_zh.lower()
               or typed in m.name_en.lower()]
    if len(partial) == 1:
        return partial[0], words[1:]
    _ = caller._
    listed = figure_list(session, caller)
    if partial:
        keep = {m.key for m in partial}
        table = listed.cards[0].parts[0]
        assert isinstance(table, Table)
        table.rows = [row for row in table.rows if row[1] in keep]
    text = (_("Several figures match {value!r}; use one of these.") if partial
            else _("No figure is called {value!r}; these are the figures.")).format(value=words[0])
    listed.text = text
    listed.cards[0].parts.insert(0, Paragraph(text))
    return listed


def customer_answer(session: Session, caller: Caller, authorizer: Authorizer, customer: Customer, period: Period,
                    *, for_channel: bool = False, asked_in_channel: bool = False,
                    collecting: dt.date | None = None, book: ScoreBook | None = None) -> Answer:
    """The customer card for a month or a year. `for_channel` leaves out what not every
    reader may see (costs) and the buttons only the asker can use; `collecting`: the
    month's figures are still coming in, due then."""
    if period.year is not None:
        return _customer_year(session, caller, customer, period.year, for_channel, asked_in_channel,
                              book or ScoreBook(session))
    assert period.month is not None
    _ = caller._
    book = book or ScoreBook(session)
    month = period.month
    months = [add_months(month, -i) for i in range(12, -1, -1)]
    scores: dict[tuple[int, str], MonthlyScore | stored.Headline] = dict(
        stored.monthly_headlines(book, {customer.id: customer.code}, months))
    rules = book.rules_for(month)
    score = book.monthly({customer.id: customer.code}, [month]).get((customer.id, month))  # the month in detail
    scores.pop((customer.id, month), None)
    if score is not None:
        scores[(customer.id, month)] = score
    name = pick(caller.locale, customer.name_zh, customer.name_en)
    title = _("{name} ({code}) · {month}").format(name=name, code=customer.code, month=month)
    parts: list = []
    if collecting is not None:
        parts.append(Paragraph(_("In progress: {month}'s figures are due {due}; this score may still change.")
                               .format(month=month, due=collecting.isoformat()), strong=True))
    if score is not None and score.provisional:
        parts.append(Paragraph(_("Provisional: {n} KPI figure(s) not handed in yet ({names}); the customer-required "
                                 "score counts only the KPIs known so far.").format(
            n=len(score.kpi_missing), names=kpi_names(session, caller.locale, score, score.kpi_missing)), strong=True))
    if score is None:
        parts.append(Paragraph(_("No deliveries and no scorecard input in {month}: the month is not scored.")
                               .format(month=month)))
    else:
        previous = scores.get((customer.id, add_months(month, -1)))
        last_year = scores.get((customer.id, add_months(month, -12)))
        parts.append(FieldList([
            Field(_("Total"), f"{score_text(score.total)} / 100"),
            Field(_("Grade"), grade_name(rules, score.grade, caller.locale)),
            Field(_("Change against last month"), signed(score.total - previous.total) if previous else "—"),
            Field(_("Change against last year"), signed(score.total - last_year.total) if last_year else "—"),
        ]))
        parts.append(Table([_("Category"), _("Score"), _("Points lost"), _("Why")],
                           _category_rows(_, rules, score)))
        parts.extend(kpi_parts(caller, score))
        if score.deductions:
            parts.append(Paragraph(_("Events behind the lost points"), strong=True))
            parts.append(Table([_("Date"), _("Event"), _("Count"), _("Points"), _("Entered by")], [
                [d.event.event_date.isoformat(),
                 pick(caller.locale, rules.events[d.event_type].name_zh, rules.events[d.event_type].name_en)
                 + (f" ({d.event.complaint_number})" if d.event.complaint_number else ""),
                 str(d.count), f"−{fmt(d.points)}", d.event.entered_by or d.event.source]
                for d in score.deductions[:15]
            ]))
        if score.total < rules.monthly_target:
            parts.append(Paragraph(_("Below the target of {target:g}: the responsible department analyses and "
                                     "improves (a corrective action is opened).").format(target=rules.monthly_target)))
    if not for_channel and authorizer.may_see_costs(caller.roles):
        costs = _costs(session, customer, month, caller.locale)
        if costs:
            parts.append(FieldList(costs))
    parts.extend(_open_items(session, caller, customer))
    buttons = []
    if not for_channel:
        if asked_in_channel:
            buttons.append(Button(_("Share to channel"), "csat.share",
                                  json.dumps({"code": customer.code, "period": month}), "primary"))
        if score is not None and any(score.lost.values()):
            buttons.append(Button(_("What lost the points"), "csat.breakdown",
                                  json.dumps({"code": customer.code, "period": month})))
        if authorizer.allows(caller.roles, "scorecard.record_event"):
            buttons.append(Button(_("Record event"), "csat.record_event", customer.code))
            for deduction in (score.deductions if score else [])[:3]:
                buttons.append(Button(_("Correct {date} {type}").format(
                    date=deduction.event.event_date.strftime("%m-%d"),
                    type=pick(caller.locale, rules.events[deduction.event_type].name_zh,
                              rules.events[deduction.event_type].name_en)),
                    "csat.correct_event", str(deduction.event.id)))
    if buttons:
        parts.append(Actions(buttons))
    parts.append(Context(_("Rules: version {version} · target {target:g}")  # where the chart is: said on delivery
                         .format(version=rules.version, target=rules.monthly_target)))
    text = (_("{name}: {total} ({grade}) in {month}").format(
        name=name, total=score_text(score.total), grade=grade_name(rules, score.grade, caller.locale), month=month)
        if score else title)
    chart_title = _("{name} ({code}) · customer satisfaction, 13 months").format(name=name, code=customer.code)
    png = charts.trend_chart(
        chart_title, months, [scores[(customer.id, m)].total if (customer.id, m) in scores else None for m in months],
        rules.monthly_target, grade_bands(rules, caller.locale), _("Target"), _("Monthly score"))
    return Answer(Message(text=text, cards=[Card(title=title, parts=parts)]), png, chart_title)


def kpi_names(session: Session, locale: str, score: MonthlyScore, keys: list[str]) -> str:
    """The missing KPIs by name: the register's, or the metric's (a typed achievement rate)."""
    names = {r.kpi.kpi: pick(locale, r.kpi.name_zh, r.kpi.name_en) for r in score.kpi_results}
    for key in keys:
        metric = session.get(Metric, key) if key not in names else None
        if metric is not None:
            names[key] = pick(locale, metric.name_zh, metric.name_en)
    return "、".join(names.get(k, k) for k in keys) if locale == "zh-CN" else ", ".join(names.get(k, k) for k in keys)


def kpi_parts(caller: Caller, score: MonthlyScore) -> list:
    """The customer's KPIs for the month: value against target, met or not, or not known."""
    if not score.kpi_results:
        return []
    _ = caller._
    rows = []
    for result in score.kpi_results:
        kpi = result.kpi
        target = ("≥ " if kpi.direction == "higher" else "≤ ") + fmt(kpi.target, 3)
        state = {True: _("met"), False: _("not met"), None: _("not known yet")}[result.met]
        if result.source == "missing" and result.met is False:
            state = _("missing: not met")
        elif result.source == "not_applicable":
            state = _("no complaint deadline this month")
        value = fmt(result.value, 3) + (" *" if result.source == "computed" else "")
        rows.append(Field(pick(caller.locale, kpi.name_zh, kpi.name_en), f"{value} ({target}) · {state}"))
    parts: list = [Paragraph(_("Customer KPIs"), strong=True), FieldList(rows)]
    if any(r.source == "computed" for r in score.kpi_results):
        parts.append(Context(_("* computed by the bot: after-sales PPM from the 3MIS figure, response timeliness "
                               "from the month's complaint deadlines.")))
    return parts


def _category_rows(_: Gettext, rules: RuleSet, score: MonthlyScore) -> list[list[str]]:
    full = rules.category_points
    if score.kpi_results:
        decided = [r for r in score.kpi_results if r.met is not None]
        why_kpi = _("{met} of {n} KPI(s) met").format(met=sum(1 for r in decided if r.met), n=len(decided))
        if score.provisional:
            why_kpi += " · " + _("provisional")
    elif score.kpi_figure:
        why_kpi = _("achievement {rate}%").format(rate=fmt(score.kpi_figure.value))
    else:
        why_kpi = _("no KPI figure: full marks")
    why_card = (_("customer's score {pct}%").format(pct=fmt(score.scorecard_figure.value)) if score.scorecard_figure
                else _("no score given: full marks"))
    counts = Counter(d.category for d in score.deductions)

    def events_note(category: str) -> str:
        return _("{n} event(s)").format(n=counts[category]) if counts[category] else ""

    rows = []
    for category, value, why in (("quality", score.quality, events_note("quality")),
                                 ("delivery", score.delivery, events_note("delivery")),
                                 ("kpi", score.kpi, why_kpi),
                                 ("customer_scorecard", score.customer_scorecard, why_card)):
        label = CATEGORY_NAMES[category]
        rows.append([_(label), f"{score_text(value)}/{full[category]:g}", _lost(score.lost[category]), why])
    return rows


def _lost(points: float) -> str:
    return f"−{fmt(points)}" if points else "0"


def _costs(session: Session, customer: Customer, month: str, locale: str) -> list[Field]:
    rows = session.execute(
        select(Metric.name_zh, Metric.name_en, FigureSubmission.value)
        .join(Metric, Metric.key == FigureSubmission.metric_key)
        .where(FigureSubmission.customer_id == customer.id, FigureSubmission.period == month,
               FigureSubmission.is_current.is_(True), FigureSubmission.metric_key.in_(COST_METRICS))
        .order_by(Metric.sort_order)
    ).all()
    return [Field(pick(locale, zh, en), f"¥{float(value):,.2f}") for zh, en, value in rows]


def _open_items(session: Session, caller: Caller, customer: Customer) -> list:
    _ = caller._
    complaints = list(session.execute(
        select(Complaint.number, Complaint.status).where(Complaint.customer_id == customer.id,
                                                         Complaint.status != "closed")
        .order_by(Complaint.received_at.desc())).all())
    actions = list(session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.customer_id == customer.id,
                                       CorrectiveAction.status.not_in(CLOSED_ACTIONS))
        .order_by(CorrectiveAction.opened_at.desc())))
    complaint_text = ", ".join(f"{n} ({_(STATUS_NAMES.get(s, s))})" for n, s in complaints[:5]) or _("none")
    if len(complaints) > 5:
        complaint_text += " …"
    due = _("due")
    action_text = "; ".join(
        f"#{a.id} {a.title.split(' / ')[0 if caller.locale == 'zh-CN' else -1]}"
        + f" ({_(ACTION_STATE_NAMES.get(a.status, a.status))}"
        + (f", {due} {a.due_date.isoformat()})" if a.due_date else ")") for a in actions[:3]) or _("none")
    revisits = list(session.scalars(select(Revisit).where(Revisit.customer_id == customer.id,
                                                          Revisit.status == "due").order_by(Revisit.due_date)))
    revisit_text = "; ".join(f"{r.product} ({_(REVISIT_REASONS.get(r.reason, r.reason))}, {due} "
                             f"{r.due_date.isoformat()})" for r in revisits[:3]) or _("none")
    return [FieldList([
        Field(_("Open complaints ({n})").format(n=len(complaints)), complaint_text),
        Field(_("Open corrective actions ({n})").format(n=len(actions)), action_text),
        Field(_("Quality revisits due ({n})").format(n=len(revisits)), revisit_text),
    ])]


def _customer_year(session: Session, caller: Caller, customer: Customer, year: int, for_channel: bool,
                   asked_in_channel: bool, book: ScoreBook) -> Answer:
    _ = caller._
    rules = book.rules_for(f"{year}-12")
    annual = book.annual({customer.id: customer.code}, year)[customer.id]
    monthly = book.monthly({customer.id: customer.code}, months_of_year(year))
    name = pick(caller.locale, customer.name_zh, customer.name_en)
    title = _("{name} ({code}) · {year}").format(name=name, code=customer.code, year=year)
    parts: list = [FieldList(_annual_fields(_, rules, annual, caller.locale))]
    rows = [[m, score_text(monthly[(customer.id, m)].total),
             grade_name(rules, monthly[(customer.id, m)].grade, caller.locale)]
            for m in months_of_year(year) if (customer.id, m) in monthly]
    if rows:
        parts.append(Table([_("Month"), _("Score"), _("Grade")], rows))
    else:
        parts.append(Paragraph(_("No month of {year} is scored.").format(year=year)))
    if annual.annual is not None and annual.annual < rules.annual_target:
        parts.append(Paragraph(_("Below the annual target of {target:g}: goes to management review with "
                                 "improvement measures.").format(target=rules.annual_target)))
    if asked_in_channel and not for_channel:
        parts.append(Actions([Button(_("Share to channel"), "csat.share",
                                     json.dumps({"code": customer.code, "period": str(year)}), "primary")]))
    text = _("{name}: {year} annual score {annual} ({grade})").format(
        name=name, year=year, annual=score_text(annual.annual), grade=grade_name(rules, annual.grade, caller.locale))
    months = months_of_year(year)
    chart_title = _("{name} ({code}) · customer satisfaction {year}").format(name=name, code=customer.code, year=year)
    png = charts.trend_chart(chart_title, months,
                             [monthly[(customer.id, m)].total if (customer.id, m) in monthly else None for m in months],
                             rules.monthly_target, grade_bands(rules, caller.locale), _("Target"), _("Monthly score"))
    return Answer(Message(text=text, cards=[Card(title=title, parts=parts)]), png, chart_title)


def _annual_fields(_: Gettext, rules: RuleSet, annual: AnnualScore, locale: str) -> list[Field]:
    fields = [
        Field(_("Annual score"), score_text(annual.annual)),
        Field(_("Grade"), grade_name(rules, annual.grade, locale)),
        Field(_("Monthly mean"), _("{mean} over {n} month(s) evaluated").format(mean=score_text(annual.monthly_mean),
                                                                                n=len(annual.months))),
    ]
    if annual.survey_score is not None:
        fields.append(Field(_("Survey score"), _("{score} (weight {weight:g}%)").format(
            score=score_text(annual.survey_score), weight=annual.survey_weight * 100)))
    else:
        fields.append(Field(_("Survey score"), _("no survey this year")))
    return fields


# --- /csat overview ---------------------------------------------------------------------------------------


HEATMAP_ROWS = 40


def overview_answer(session: Session, caller: Caller, month: str, collecting: dt.date | None = None,
                    book: ScoreBook | None = None) -> Answer:
    """`collecting`: the month's figures are still coming in, due then. Everyone asking for
    the same month in the same language gets the same answer: it is made once while its
    inputs stay as they are (twenty people asking at once wait for one), and copied for
    each, since an answer gets the asker's own buttons."""
    book = book or ScoreBook(session)
    months = [add_months(month, -i) for i in range(11, -1, -1)]
    key = ("overview", month, caller.locale, collecting)
    return copy.deepcopy(stored.while_current(
        book, key, months, lambda: _overview(session, caller, month, collecting, book, months)))


def _overview(session: Session, caller: Caller, month: str, collecting: dt.date | None, book: ScoreBook,
              months: list[str]) -> Answer:
    """The overview as the company's data stands; what it shows depends on the asker's
    language alone."""
    _ = caller._
    customers = all_customers(session)
    names = {cid: pick(caller.locale, zh, en)  # the columns, not thousands of customers with all they hold
             for cid, zh, en in session.execute(select(Customer.id, Customer.name_zh, Customer.name_en))}
    scores = stored.monthly_headlines(book, customers, months)
    rules = book.rules_for(month)
    current = sorted(((cid, scores[(cid, month)]) for cid in customers if (cid, month) in scores),
                     key=lambda item: (-item[1].total, customers[item[0]]))
    grades = Counter(s.grade for _cid, s in current)
    below = [(cid, s) for cid, s in current if s.total < rules.monthly_target]
    provisional = [cid for cid, s in current if s.provisional]
    title = _("Customer satisfaction overview · {month}").format(month=month)
    parts: list = []
    if collecting is not None:
        parts.append(Paragraph(_("In progress: {month}'s figures are due {due}; {n} of {m} customers scored so far.")
                               .format(month=month, due=collecting.isoformat(), n=len(current), m=len(customers)),
                               strong=True))
    parts += [FieldList(
        [Field(grade_name(rules, g.key, caller.locale), str(grades.get(g.key, 0))) for g in rules.grades]
        + [Field(_("Customers scored"), f"{len(current)} / {len(customers)}"),
           Field(_("Below target ({target:g})").format(target=rules.monthly_target), str(len(below)))]
        + ([Field(_("Provisional (KPI figures missing)"), str(len(provisional)))] if provisional else [])
    )]
    if current:
        mean = sum(s.total for _c, s in current) / len(current)
        parts.append(Paragraph(_("Mean score {mean}").format(mean=score_text(mean))))
        ranked = current if len(current) <= 20 else current[:10] + current[-10:]
        rows = [[str(current.index(item) + 1), customers[item[0]], names[item[0]],
                 score_text(item[1].total) + (" *" if item[1].provisional else ""),
                 grade_name(rules, item[1].grade, caller.locale)] for item in ranked]
        parts.append(Table(["#", _("Code"), _("Customer"), _("Score"), _("Grade")], rows))
        if provisional:
            parts.append(Context(_("* provisional: KPI figures still missing ({codes}).").format(
                codes=", ".join(customers[cid] for cid in provisional[:20]) + (" …" if len(provisional) > 20 else ""))))
        if len(current) > 20:
            parts.append(Context(_("Top 10 and bottom 10 of {n} customers.").format(n=len(current))))
    else:
        parts.append(Paragraph(_("No customer is scored in {month}.").format(month=month)))
    if below:
        parts.append(Paragraph(_("Below target: {list}").format(
            list=", ".join(f"{customers[cid]} {score_text(s.total)}" for cid, s in below[::-1][:20])
            + (" …" if len(below) > 20 else ""))))
    chart_ids = [cid for cid, _s in current][-HEATMAP_ROWS:] if current else []
    chart_title = _("Customers × months by grade · {first} to {last}").format(first=months[0], last=months[-1])
    png = None
    if chart_ids:
        grid = [[scores[(cid, m)].total if (cid, m) in scores else None for m in months] for cid in chart_ids]
        labels = [charts.short_label(f"{customers[cid]} {names[cid]}") for cid in chart_ids]
        png = charts.heatmap_chart(chart_title, labels, months, grid, grade_bands(rules, caller.locale))
        if len(current) > HEATMAP_ROWS:
            parts.append(Context(_("The heat map shows the {n} lowest-scoring customers.").format(n=HEATMAP_ROWS)))
    text = _("{month}: {n} customers scored, {below} below target").format(month=month, n=len(current),
                                                                          below=len(below))
    return Answer(Message(text=text, cards=[Card(title=title, parts=parts)]), png, chart_title)


# --- /csat metric ------------------------------------------------------------------------------------------

SUMMED_UNITS = ("count", "minutes", "CNY")


def metric_answer(session: Session, caller: Caller, authorizer: Authorizer, key: str, year: int,
                  customer: Customer | None = None, editable: bool = False) -> Answer:
    """`editable`: the asker's own answer, with *Change target* for those who may."""
    _ = caller._
    metric = session.get(Metric, key)
    if metric is None:
        known = ", ".join(session.scalars(select(Metric.key).order_by(Metric.sort_order)))
        raise UserError(T("Unknown figure {value!r}. Known figures: {known}", value=key, known=known))
    if metric.visibility == "costs" and not authorizer.may_see_costs(caller.roles):
        raise UserError(T("Cost figures are shown to finance, quality and management only."))
    months = months_of_year(year)
    query = select(FigureSubmission.period, FigureSubmission.value).where(
        FigureSubmission.metric_key == key, FigureSubmission.is_current.is_(True),
        FigureSubmission.period >= months[0], FigureSubmission.period <= months[-1])
    if customer is not None:
        query = query.where(FigureSubmission.customer_id == customer.id)
    per_month: dict[str, list[float]] = {}
    for period, value in session.execute(query):
        per_month.setdefault(period, []).append(float(value))
    summed = metric.unit in SUMMED_UNITS
    series = [(m, sum(per_month[m]) if summed else sum(per_month[m]) / len(per_month[m]))
              for m in months if m in per_month]
    name = pick(caller.locale, metric.name_zh, metric.name_en)
    scope = pick(caller.locale, customer.name_zh, customer.name_en) if customer else (
        _("all customers") if metric.scope == "customer" else _("company"))
    title = _("{name} ({unit}) · {scope} · {year}").format(name=name, unit=metric.unit, scope=scope, year=year)
    targets = {m: targets_in_force(session, m, [key]).get(key) for m, _v in series}  # each month's own target
    target = targets[series[-1][0]] if series else targets_in_force(session, months[-1], [key]).get(key)
    values = [v for _m, v in series]
    limits = xmr_limits(values, floor=float(metric.min_value))
    parts: list = []
    if not series:
        parts.append(Paragraph(_("No {name} figures in {year}.").format(name=name, year=year)))
        parts.extend(_target_button(caller, authorizer, metric.key, editable))
        return Answer(Message(text=title, cards=[Card(title=title, parts=parts)]))
    aggregation = _("sum over customers") if summed else _("mean over customers")
    fields = [Field(_("Months with figures"), str(len(series))),
              Field(_("Target"), fmt(target, 2) if target is not None else "—")]
    if limits:
        fields += [Field(_("Mean (x̄)"), fmt(limits.mean, 2)), Field(_("Mean moving range (mR̄)"),
                                                                     fmt(limits.moving_range_mean, 2)),
                   Field(_("Natural process limits"), f"{fmt(limits.lower, 2)} – {fmt(limits.upper, 2)}")]
    parts.append(FieldList(fields))
    signal_months = [series[i][0] for i in (limits.signals if limits else ())]
    parts.append(Table([_("Month"), _("Value"), _("Against target"), _("Signal")], [
        [m, fmt(v, 2), _target_mark(_, v, targets.get(m), metric.higher_is_better),
         _("outside the limits") if m in signal_months else ""] for m, v in series]))
    if limits:
        parts.append(Paragraph(
            _("{n} month(s) outside the limits: look for a cause.").format(n=len(signal_months)) if signal_months
            else _("Every month is inside the limits: the variation is routine, not a signal.")))
    if metric.scope == "customer" and customer is None:
        parts.append(Context(aggregation))
    parts.extend(_target_button(caller, authorizer, metric.key, editable))
    chart_labels = {"value": name, "mean": "x̄", "limits": _("limits"), "target": _("Target")}
    png = charts.xmr_chart(title, [m for m, _v in series], values, limits.mean if limits else values[0],
                           limits.upper if limits else values[0], limits.lower if limits else values[0],
                           target, limits.signals if limits else (), chart_labels)
    return Answer(Message(text=title, cards=[Card(title=title, parts=parts)]), png, title)


def _target_button(caller: Caller, authorizer: Authorizer, key: str, editable: bool) -> list:
    if editable and authorizer.allows(caller.roles, "rules.edit"):
        return [Actions([Button(caller._("Change target"), "csat.metric_target", key)])]
    return []


def _target_mark(_: Gettext, value: float, target: float | None, higher_is_better: bool) -> str:
    if target is None:
        return ""
    met = value >= target if higher_is_better else value <= target
    return _("met") if met else _("missed")




# --- what lost a month's points ------------------------------------------------------------------


def breakdown_answer(session: Session, caller: Caller, customer: Customer, month: str, book: ScoreBook) -> Answer:
    """A customer's month by category: the points each kept and lost, as a chart."""
    _ = caller._
    rules = book.rules_for(month)
    score = book.monthly({customer.id: customer.code}, [month]).get((customer.id, month))
    name = pick(caller.locale, customer.name_zh, customer.name_en)
    if score is None:
        raise UserError(T("{code} is not evaluated in {month}: no deliveries and no scorecard input.",
                          code=customer.code, month=month))
    title = _("{name} ({code}) · what lost the points in {month}").format(name=name, code=customer.code, month=month)
    png = charts.breakdown_chart(title, [_(CATEGORY_NAMES[c]) for c in CATEGORIES],
                                 [rules.category_points[c] for c in CATEGORIES],
                                 [getattr(score, c) for c in CATEGORIES], _("Points kept"), _("Points lost"))
    lost = ", ".join(f"{_(CATEGORY_NAMES[c])} −{fmt(score.lost[c])}" for c in CATEGORIES if score.lost.get(c))
    text = _("{name} {month}: {total}; lost: {lost}").format(name=name, month=month, total=score_text(score.total),
                                                           lost=lost or "—")
    return Answer(Message(text=text, cards=[Card(title=title, parts=[Paragraph(text)])]), png, title)
