"""The ledgers as quality engineers file them: the complaint ledger (客户反馈投诉登记台账)
and the month's figures with every version, each one row per record, the header frozen and
filterable, user text written as text."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.complaints.terms import (
    CAUSES,
    EIGHT_D,
    FOUND_WHERE,
    MILESTONE_NAMES,
    RECEIVED_VIA,
    RESPONSIBILITY,
    SEVERITIES,
    STATUS_NAMES,
)
from bot.core.i18n import N_, gettext_for, pick
from bot.reports import workbook as xl
from storage.models import (
    Complaint,
    ComplaintDeadline,
    Customer,
    EightDReport,
    FigureSubmission,
    Metric,
    Person,
    ProductReturn,
)

MILESTONES = list(MILESTONE_NAMES)
FIGURE_SOURCES = {"dialog": N_("the monthly dialog"), "import": N_("a file import"), "complaint": N_("a complaint"),
                  "demo": N_("the demo company"), "api": N_("the API")}
RETURN_STATUS = {"pending": N_("awaiting approval"), "approved": N_("approved"), "rejected": N_("rejected")}


def complaint_ledger_workbook(session: Session, start: dt.date | None, end: dt.date | None, locale: str,
                              tz: ZoneInfo) -> bytes:
    """Every complaint received from `start` to `end` (days in the company's time zone, both
    included; open-ended where not given), oldest first."""
    _ = gettext_for(locale)
    query = select(Complaint).order_by(Complaint.received_at, Complaint.id)
    if start is not None:
        query = query.where(Complaint.received_at >= dt.datetime.combine(start, dt.time(), tz))
    if end is not None:
        query = query.where(Complaint.received_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz))
    complaints = list(session.scalars(query))
    ids = [c.id for c in complaints]
    customers = {c.id: c for c in session.scalars(select(Customer))}
    people = dict(session.execute(select(Person.id, Person.name)).all())
    deadlines: dict[int, dict[str, ComplaintDeadline]] = defaultdict(dict)
    reports: dict[int, EightDReport] = {}
    returns: dict[int, list[ProductReturn]] = defaultdict(list)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for deadline in session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id.in_(chunk))):
            deadlines[deadline.complaint_id][deadline.milestone] = deadline
        for report in session.scalars(select(EightDReport).where(EightDReport.complaint_id.in_(chunk))):
            reports[report.complaint_id] = report
        for product_return in session.scalars(select(ProductReturn).where(ProductReturn.complaint_id.in_(chunk))):
            returns[product_return.complaint_id or 0].append(product_return)

    workbook = xl.new_workbook()
    ws = workbook.create_sheet(_("Complaint ledger"))
    titles = [_("Number"), _("Customer code"), _("Customer"), _("Received at"), _("Received via"), _("Found"),
              _("Registered at"),
              _("Logged by"), _("Owner"), _("Severity"), _("Product model"), _("Specification"), _("Quantity"),
              _("Batch"), _("Symptom"), _("Contact"), _("Phone"), _("E-mail"), _("Status")]
    for milestone in MILESTONES:
        name = _(MILESTONE_NAMES[milestone])
        titles += [_("{step}: due").format(step=name), _("{step}: done").format(step=name),
                   _("{step}: state").format(step=name)]
    titles += [_("Responsibility"), _("Responsibility detail"), _("Cause"), _("First response"), _("Investigation"),
               _("8D: steps done"), _("Return"), _("Reply to the customer"), _("Closed at"),
               _("Customer's opinion"), _("Cost")]
    xl.header(ws, 1, titles)
    states = {"open": _("open"), "met": _("met"), "breached": _("breached")}
    for row, complaint in enumerate(complaints, start=2):
        customer = customers.get(complaint.customer_id)
        values: list[tuple[str, object]] = [
            ("text", complaint.number), ("text", customer.code if customer else ""),
            ("text", pick(locale, customer.name_zh, customer.name_en) if customer else ""),
            ("when", complaint.received_at),
            ("text", _(RECEIVED_VIA[complaint.received_via]) if complaint.received_via in RECEIVED_VIA else ""),
            ("text", _(FOUND_WHERE[complaint.found_where]) if complaint.found_where in FOUND_WHERE else ""),
            ("when", complaint.registered_at), ("text", people.get(complaint.logged_by_id or -1, "")),
            ("text", people.get(complaint.owner_id or -1, "")),
            ("text", _(SEVERITIES[complaint.severity]) if complaint.severity in SEVERITIES else complaint.severity),
            ("text", complaint.product_model), ("text", complaint.specification), ("int", complaint.quantity),
            ("text", complaint.batch), ("text", complaint.symptom), ("text", complaint.contact_name),
            ("text", complaint.contact_phone), ("text", complaint.contact_email),
            ("text", _(STATUS_NAMES.get(complaint.status, complaint.status))),
        ]
        for milestone in MILESTONES:
            deadline = deadlines[complaint.id].get(milestone)
            values += [("when", deadline.due_at if deadline else None), ("when", deadline.met_at if deadline else None),
                       ("text", states.get(deadline.state, deadline.state) if deadline else "")]
        report = reports.get(complaint.id)
        done = [_(name) for key, name in EIGHT_D if report is not None and getattr(report, key)]
        values += [
            ("text", _(RESPONSIBILITY[complaint.responsibility]) if complaint.responsibility in RESPONSIBILITY else ""),
            ("text", complaint.responsibility_detail),
            ("text", _(CAUSES[complaint.cause_category]) if complaint.cause_category in CAUSES
             else complaint.cause_category),
            ("text", complaint.first_response), ("text", complaint.investigation),
            ("text", _("{done} of {all}: {steps}").format(done=len(done), all=len(EIGHT_D), steps=", ".join(done))
             if report is not None else ""),
            ("text", "; ".join(_("{quantity} pieces, {status}").format(
                quantity=r.quantity, status=_(RETURN_STATUS.get(r.status, r.status))) for r in returns[complaint.id])),
            ("text", complaint.reply_to_customer), ("when", complaint.closed_at), ("text", complaint.customer_opinion),
            ("money", complaint.cost),
        ]
        for column, (kind, value) in enumerate(values, start=1):
            if kind == "when":
                xl.moment(ws, row, column, value, tz)  # type: ignore[arg-type]
            elif kind == "int":
                xl.number(ws, row, column, value, "0")  # type: ignore[arg-type]
            elif kind == "money":
                xl.number(ws, row, column, value, "#,##0.00")  # type: ignore[arg-type]
            else:
                xl.text(ws, row, column, value)
    xl.widths(ws, [14, 10, 24, 16, 10, 14, 16, 10, 10, 8, 14, 12, 8, 12, 40, 10, 14, 20, 12]
              + [16, 16, 8] * len(MILESTONES) + [10, 24, 14, 30, 30, 30, 18, 30, 16, 30, 12])
    return xl.to_bytes(workbook)


def figures_workbook(session: Session, month: str, locale: str, tz: ZoneInfo) -> bytes:
    """Every figure of the month, each version in its own row (the current one marked), with
    who gave it, on whose behalf, when, from where and why it changed."""
    _ = gettext_for(locale)
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = {c.id: c for c in session.scalars(select(Customer))}
    people = dict(session.execute(select(Person.id, Person.name)).all())
    rows = list(session.scalars(select(FigureSubmission).where(FigureSubmission.period == month)))
    rows.sort(key=lambda r: (metrics[r.metric_key].sort_order if r.metric_key in metrics else 0, r.metric_key,
                             customers[r.customer_id].code if r.customer_id in customers else "", r.version))
    workbook = xl.new_workbook()
    ws = workbook.create_sheet(_("Figures {month}").format(month=month))
    xl.header(ws, 1, [_("Figure"), _("Key"), _("Unit"), _("Customer code"), _("Customer"), _("Value"), _("Version"),
                      _("Current"), _("Given by"), _("On behalf of"), _("Given at"), _("Source"), _("Reason for the "
                      "change"), _("Note")])
    for row, figure in enumerate(rows, start=2):
        metric, customer = metrics.get(figure.metric_key), customers.get(figure.customer_id or -1)
        xl.text(ws, row, 1, pick(locale, metric.name_zh, metric.name_en) if metric else figure.metric_key)
        xl.text(ws, row, 2, figure.metric_key)
        xl.text(ws, row, 3, metric.unit if metric else "")
        xl.text(ws, row, 4, customer.code if customer else "")
        xl.text(ws, row, 5, pick(locale, customer.name_zh, customer.name_en) if customer else _("(the company)"))
        xl.number(ws, row, 6, float(figure.value), "0.######")
        xl.number(ws, row, 7, figure.version, "0")
        xl.text(ws, row, 8, _("yes") if figure.is_current else "")
        xl.text(ws, row, 9, people.get(figure.submitted_by_id or -1, ""))
        xl.text(ws, row, 10, people.get(figure.on_behalf_of_id or -1, ""))
        xl.moment(ws, row, 11, figure.submitted_at, tz)
        xl.text(ws, row, 12, _(FIGURE_SOURCES[figure.source]) if figure.source in FIGURE_SOURCES else figure.source)
        xl.text(ws, row, 13, figure.reason)
        xl.text(ws, row, 14, figure.note)
    xl.widths(ws, [24, 22, 8, 12, 24, 12, 8, 8, 12, 12, 16, 10, 30, 30])
    return xl.to_bytes(workbook)
