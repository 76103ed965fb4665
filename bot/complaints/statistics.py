"""Monthly complaint statistics for the reports (004 §5.3 e, 003): count by customer, by
cause and by cost (Pareto with cumulative %), the 12-month trend, SLA compliance."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED as CLOSED_ACTIONS
from bot.complaints.deadlines import MILESTONES
from bot.complaints.terms import CAUSES, MILESTONE_NAMES
from bot.core import charts
from bot.core.i18n import N_, gettext_for, pick
from bot.core.periods import add_months, month_start
from bot.core.views import Card, Field, FieldList, Message, Paragraph, Table
from bot.scorecard.answers import Answer
from storage.models import Complaint, ComplaintDeadline, CorrectiveAction, Customer

UNCLASSIFIED = N_("not classified")


def _bounds(month: str, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(month_start(month), dt.time(0), tz)
    end = dt.datetime.combine(month_start(add_months(month, 1)), dt.time(0), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def pareto(counts: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(counts.values()) or 1
    running = 0.0
    rows = []
    for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        running += value
        rows.append({"key": key, "value": round(value, 2), "cumulative_pct": round(100 * running / total, 1)})
    return rows


def monthly_stats(session: Session, month: str, tz: ZoneInfo, now: dt.datetime | None = None) -> dict[str, Any]:
    """The month's complaints (by receipt) and the deadlines due in it. A deadline never met
    is breached from its due time on, whether or not the scan has marked it yet; "not
    needed" (the responsibility made the step unnecessary) is counted on its own."""
    now = now or dt.datetime.now(dt.UTC)
    start, end = _bounds(month, tz)
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    rows = list(session.execute(select(Complaint.id, Complaint.customer_id, Complaint.cause_category, Complaint.cost)
                                .where(Complaint.received_at >= start, Complaint.received_at < end)))
    by_customer: Counter[str] = Counter(codes.get(r[1], "?") for r in rows)
    by_cause: Counter[str] = Counter(r[2] or "unknown" for r in rows)
    cost: dict[str, float] = defaultdict(float)
    for row in rows:
        if row[3] is not None:
            cost[codes.get(row[1], "?")] += float(row[3])
    trend = []
    for offset in range(11, -1, -1):
        m = add_months(month, -offset)
        a, b = _bounds(m, tz)
        trend.append({"month": m, "count": len(session.execute(select(Complaint.id).where(
            Complaint.received_at >= a, Complaint.received_at < b)).all())})
    sla: dict[str, dict[str, Any]] = {}
    deadlines = session.execute(select(ComplaintDeadline.milestone, ComplaintDeadline.state, ComplaintDeadline.due_at,
                                       Complaint.status)
                                .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
                                .where(ComplaintDeadline.due_at >= start, ComplaintDeadline.due_at < end)).all()
    for milestone in MILESTONES:
        counts = Counter({"met": 0, "breached": 0, "open": 0, "not_needed": 0})
        for _milestone, state, due, status in (d for d in deadlines if d[0] == milestone):
            paused = status == "waiting_customer"  # its deadlines move when the customer replies
            counts["breached" if state == "open" and due <= now and not paused else state] += 1
        decided = counts["met"] + counts["breached"]
        sla[milestone] = {**{k: counts[k] for k in ("met", "breached", "open", "not_needed")},
                          "compliance_pct": round(100 * counts["met"] / decided, 1) if decided else None}
    pending = session.scalar(select(func.count(func.distinct(Complaint.id))).join(
        CorrectiveAction, CorrectiveAction.complaint_id == Complaint.id).where(
        Complaint.received_at >= start, Complaint.received_at < end, Complaint.status == "closed",
        CorrectiveAction.status.not_in(CLOSED_ACTIONS))) or 0
    return {"month": month, "period": month, "count": len(rows), "closed_with_action_pending": int(pending),
            "by_customer": pareto(dict(by_customer)),
            "by_cause": pareto(dict(by_cause)), "by_cost": pareto(dict(cost)), "trend": trend, "sla": sla}


def span_stats(session: Session, months: list[str], tz: ZoneInfo, now: dt.datetime,
               failure_modes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The statistics of several months (a quarter, a year) as the sum of the months': the
    counts by customer, cause and cost added up and ranked again, the deadlines added up,
    the trend over the span's months; with `failure_modes`, the complaints by failure mode."""
    by: dict[str, Counter[str]] = {"by_customer": Counter(), "by_cause": Counter()}
    cost: dict[str, float] = defaultdict(float)
    sla: dict[str, Counter[str]] = {m: Counter() for m in MILESTONES}
    count = pending = 0
    trend = []
    for month in months:
        stats = monthly_stats(session, month, tz, now)
        count += stats["count"]
        pending += stats["closed_with_action_pending"]
        trend.append({"month": month, "count": stats["count"]})
        for key, into in by.items():
            into.update({row["key"]: int(row["value"]) for row in stats[key]})
        for row in stats["by_cost"]:
            cost[row["key"]] += row["value"]
        for milestone, counts in stats["sla"].items():
            sla[milestone].update({k: counts[k] for k in ("met", "breached", "open", "not_needed")})
    deadlines = {}
    for milestone, counts in sla.items():
        decided = counts["met"] + counts["breached"]
        deadlines[milestone] = {**{k: counts[k] for k in ("met", "breached", "open", "not_needed")},
                                "compliance_pct": round(100 * counts["met"] / decided, 1) if decided else None}
    label = months[0] if len(months) == 1 else f"{months[0]}…{months[-1]}"
    result: dict[str, Any] = {
        "month": months[-1], "period": label, "months": list(months), "count": count,
        "closed_with_action_pending": pending, "by_customer": pareto(dict(by["by_customer"])),
        "by_cause": pareto(dict(by["by_cause"])), "by_cost": pareto(dict(cost)), "trend": trend, "sla": deadlines}
    if failure_modes is not None:
        start, _end = _bounds(months[0], tz)
        _start, end = _bounds(months[-1], tz)
        symptoms = session.scalars(select(Complaint.symptom).where(Complaint.received_at >= start,
                                                                   Complaint.received_at < end))
        result["by_failure_mode"] = pareto(dict(Counter(failure_mode(symptom, failure_modes)
                                                        for symptom in symptoms)))
    return result


def failure_mode(symptom: str, modes: list[dict[str, Any]]) -> str:
    """The first configured mode one of whose words the symptom contains (case ignored);
    "unknown" when none does, so that the list can be refined from what stays unclassified."""
    text = (symptom or "").casefold()
    for mode in modes:
        if any(str(word).casefold() in text for word in mode.get("words", ())):
            return str(mode["key"])
    return "unknown"


def failure_mode_names(modes: list[dict[str, Any]], locale: str) -> dict[str, str]:
    return {str(m["key"]): pick(locale, m.get("name_zh", ""), m.get("name_en", "")) for m in modes}


def stats_message(stats: dict[str, Any], locale: str,
                  failure_modes: list[dict[str, Any]] | None = None) -> Answer:
    """The statistics as a card with the Pareto of causes; with the configured failure modes,
    a table of the complaints by mode too."""
    _ = gettext_for(locale)
    title = _("Complaint statistics · {month}").format(month=stats.get("period", stats["month"]))
    def cause(key: str) -> str:
        label = CAUSES.get(key) or UNCLASSIFIED
        return _(label)

    causes = [[cause(r["key"]), str(int(r["value"])), f"{r['cumulative_pct']}%"] for r in stats["by_cause"][:10]]
    customers = [[r["key"], str(int(r["value"])), f"{r['cumulative_pct']}%"] for r in stats["by_customer"][:10]]
    sla_rows = [[_(MILESTONE_NAMES[m]), str(v["met"]), str(v["breached"]), str(v["not_needed"]),
                 f"{v['compliance_pct']}%" if v["compliance_pct"] is not None else "—"]
                for m, v in stats["sla"].items()]
    parts: list = [FieldList([Field(_("Complaints"), str(stats["count"])),
                              Field(_("Closed, corrective action not verified yet"),
                                    str(stats.get("closed_with_action_pending", 0))),
                              Field(_("Last 12 months") if len(stats.get("months", ())) <= 1 else _("By month"),
                                    "  ".join(f"{t['month'][2:]}: {t['count']}" for t in stats["trend"]))])]
    if stats["count"]:
        parts += [Table([_("Cause"), _("Count"), _("Cumulative")], causes),
                  Table([_("Customer"), _("Count"), _("Cumulative")], customers)]
        if failure_modes is not None and "by_failure_mode" in stats:
            names = failure_mode_names(failure_modes, locale)
            modes = [[names.get(r["key"]) or _(UNCLASSIFIED), str(int(r["value"])), f"{r['cumulative_pct']}%"]
                     for r in stats["by_failure_mode"][:12]]
            parts.append(Table([_("Failure mode"), _("Count"), _("Cumulative")], modes))
    else:
        parts.append(Paragraph(_("No complaint was received in {month}.").format(
            month=stats.get("period", stats["month"]))))
    parts.append(Table([_("Deadline"), _("Met"), _("Breached"), _("Not needed"), _("Compliance")], sla_rows))
    png = None
    if stats["by_cause"]:
        labels = [cause(r["key"]) for r in stats["by_cause"]]
        png = charts.pareto_chart(title, labels, [r["value"] for r in stats["by_cause"]],
                                  [r["cumulative_pct"] for r in stats["by_cause"]], _("Count"), _("Cumulative %"))
    text = _("{n} complaint(s) in {month}").format(n=stats["count"], month=stats.get("period", stats["month"]))
    return Answer(Message(text=text, cards=[Card(title=title, parts=parts)]), png, title)
