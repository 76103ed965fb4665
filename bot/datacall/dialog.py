"""The figures dialog: pages that keep a customer's figures together, fields with unit, range
and last month's value, validation (format, range, a value far from its history needs a
note, a change needs a reason), saving every version, drafts, the confirmation."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.caller import Caller
from bot.core.i18n import pick, unit_name
from bot.core.periods import add_months
from bot.core.texts import T, Text
from bot.core.views import Card, Form, FormField, Message, Paragraph, Table, fit_initial_values
from bot.datacall.figures import (
    PARTNER,
    check_value,
    pair_problems,
    parse_number,
    record_figure,
    series_key,
    unit_problem,
)
from bot.datacall.obligations import Item, Obligation
from storage.models import (
    Customer,
    FigureDraft,
    FigureSubmission,
    Metric,
)

FIELDS_PER_PAGE = 80  # figure fields per dialog page at most: what every messenger's dialog holds


OUTLIER_SIGMAS = 4.0


HISTORY_MONTHS = 6


def dialog_pages(items: list[Item]) -> list[list[Item]]:
    """Company-wide figures on a page of their own, then a page per customer: a short page a
    phone shows whole, handed in at one sitting, with its required fields required."""
    company = [i for i in items if i.customer_id is None]
    by_customer: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        if item.customer_id is not None:
            by_customer[item.customer_id].append(item)
    pages = [company[i:i + FIELDS_PER_PAGE] for i in range(0, len(company), FIELDS_PER_PAGE)]
    for customer_items in by_customer.values():
        pages.extend(customer_items[i:i + FIELDS_PER_PAGE] for i in range(0, len(customer_items), FIELDS_PER_PAGE))
    return pages


def first_open_page(duty: Obligation, only_customer: int | None = None) -> int:
    """Where to open the dialog: the first page with a figure still owed."""
    items = [i for i in duty.items if only_customer is None or i.customer_id == only_customer]
    missing = set(duty.outstanding)
    for index, page in enumerate(dialog_pages(items)):
        if missing.intersection(page):
            return index
    return 0


def field_id(item: Item) -> str:
    return f"f|{item.metric}|{item.customer_id if item.customer_id is not None else '-'}"


def item_of(field_key: str) -> Item | None:
    parts = field_key.split("|")
    if len(parts) != 3 or parts[0] != "f":
        return None
    return Item(parts[1], None if parts[2] == "-" else int(parts[2]))


def _fmt(value: Decimal | float) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def figures_form(session: Session, caller: Caller, duty: Obligation, period: str, page_index: int,
                 only_customer: int | None = None) -> Form:
    _ = caller._
    locale = caller.locale or "zh-CN"
    items = [i for i in duty.items if only_customer is None or i.customer_id == only_customer]
    pages = dialog_pages(items)
    page_index = min(page_index, max(0, len(pages) - 1))
    page = pages[page_index] if pages else []
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({i.customer_id for i in page if i.customer_id is not None})))}
    keys = [series_key(i.metric, period, i.customer_id) for i in page]
    current = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(keys), FigureSubmission.is_current.is_(True)))}
    previous_keys = [series_key(i.metric, add_months(period, -1), i.customer_id) for i in page]
    previous = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(previous_keys), FigureSubmission.is_current.is_(True)))}
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == duty.person_id,
                                                     FigureDraft.period == period))
    drafted = dict(draft.values) if draft else {}
    fields = []
    for item in page:
        metric = metrics[item.metric]
        name = pick(locale, metric.name_zh, metric.name_en)
        one_customer = len({i.customer_id for i in page}) == 1  # the intro names it
        label = name if item.customer_id is None or one_customer else (
            f"{customers[item.customer_id].code} · "
            f"{pick(locale, customers[item.customer_id].name_zh, customers[item.customer_id].name_en)} · {name}")
        key = series_key(item.metric, period, item.customer_id)
        last = previous.get(series_key(item.metric, add_months(period, -1), item.customer_id))
        hint = _("{unit}, {low}–{high}").format(unit=unit_name(_, metric.unit), low=_fmt(metric.min_value),
                                                 high=_fmt(metric.max_value))
        if last is not None:
            hint += " · " + _("last month: {value}").format(value=_fmt(last))
        if key in current:
            hint += " · " + _("already submitted: {value} (a change needs a reason)").format(value=_fmt(current[key]))
        initial = drafted.get(field_id(item))
        if initial is None and key in current:
            initial = _fmt(current[key])
        optional = item in duty.optional
        if optional:
            hint += " · " + _("may stay empty: no score given counts as full marks")
        fields.append(FormField(field_id(item), f"{label} ({unit_name(_, metric.unit)})"[:1900], "text",
                                required=not optional, hint=hint, initial=initial, max_length=40))
    fields.append(FormField("note", _("Note (confirms an unusual value)"), "multiline", required=False,
                            initial=drafted.get("note"), max_length=1000))
    fields.append(FormField("reason", _("Reason for a correction"), "multiline", required=False,
                            initial=drafted.get("reason"), max_length=1000))
    last_page = page_index >= len(pages) - 1
    customer = customers.get(page[0].customer_id) if page and page[0].customer_id is not None else None
    where = (pick(locale, customer.name_zh, customer.name_en) + f" ({customer.code})" if customer
             else _("company-wide figures"))
    intro = _("Figures for {period}: {where}, page {page} of {pages}. Every figure asked is required; if you do "
              "not have one yet, close the dialog: what you typed is kept as a draft.").format(
        period=period, where=where, page=page_index + 1, pages=max(1, len(pages)))
    return fit_initial_values(Form(
        kind="figures.submit", title=_("Figures {period}").format(period=period),
        submit=_("Save") if last_page else _("Save and next"), close=_("Close"), fields=fields, intro=intro,
        state={"period": period, "page": page_index, "customer": only_customer},
        notify_on_close=True,
    ), _)


def history(session: Session, item: Item, period: str) -> list[float]:
    first = add_months(period, -HISTORY_MONTHS)
    query = select(FigureSubmission.value).where(
        FigureSubmission.metric_key == item.metric, FigureSubmission.is_current.is_(True),
        FigureSubmission.period >= first, FigureSubmission.period < period)
    query = query.where(FigureSubmission.customer_id.is_(None) if item.customer_id is None
                        else FigureSubmission.customer_id == item.customer_id)
    return [float(v) for v in session.scalars(query)]


def is_outlier(value: float, past: list[float]) -> bool:
    """Far outside what this figure has been: more than 4 standard deviations (or, for a
    figure that never moved, more than half its level) from the recent mean."""
    if len(past) < 3:
        return False
    mean = statistics.fmean(past)
    spread = statistics.pstdev(past)
    if spread == 0:
        return abs(value - mean) > max(abs(mean) * 0.5, 1.0)
    return abs(value - mean) > OUTLIER_SIGMAS * spread + 1e-9


@dataclass
class Saved:
    recorded: list[tuple[Item, Decimal, Decimal | None]]  # item, new value, previous value


def validate_and_save(session: Session, caller: Caller, duty: Obligation, period: str, values: dict[str, Any],
                      now: dt.datetime) -> tuple[Saved | None, dict[str, Text]]:
    """Check every typed figure (format, unit, range, history, corrections need a reason);
    save them all only when none is wrong."""
    errors: dict[str, Text] = {}
    note = str(values.get("note") or "").strip() or None
    reason = str(values.get("reason") or "").strip() or None
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    accepted: list[tuple[Item, Decimal]] = []
    for key, raw in values.items():
        item = item_of(key)
        if item is None:
            continue
        if raw in (None, ""):
            if item in duty.items and item not in duty.optional:  # what another messenger's dialog let through
                errors[key] = T("Required: type the figure, or close the dialog to keep what you typed as a draft.")
            continue
        if item not in duty.items:
            errors[key] = T("This figure is not yours to hand in for this month.")
            continue
        value = parse_number(str(raw))
        if value is None:
            errors[key] = T("{value!r} is not a number.", value=str(raw))
            continue
        problem = unit_problem(metrics[item.metric], str(raw)) or check_value(metrics[item.metric], value)
        if problem:
            errors[key] = problem
            continue
        if note is None and is_outlier(float(value), history(session, item, period)):
            errors[key] = T("{value} is far from this figure's recent values. Check it, or confirm it with a "
                            "note below.", value=_fmt(value))
            continue
        accepted.append((item, value))
    keys = {series_key(i.metric, period, i.customer_id): i for i, _v in accepted}
    current = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(list(keys)), FigureSubmission.is_current.is_(True)))}
    _check_pairs(session, duty, period, accepted, set(values), errors)
    changes = [i for i, v in accepted if series_key(i.metric, period, i.customer_id) in current
               and current[series_key(i.metric, period, i.customer_id)] != v]
    if changes and not reason:
        errors["reason"] = T("You changed {n} figure(s) already submitted: say why (the earlier values are kept).",
                             n=len(changes))
    if errors:
        return None, errors
    saved = Saved([])
    for item, value in accepted:
        owner = duty.items[item]
        result = record_figure(session, item.metric, period, item.customer_id, value, now, by=caller.person_id,
                               source="dialog", reason=reason if item in changes else None,
                               on_behalf_of=owner if owner != caller.person_id else None, note=note)
        if result.changed:
            saved.recorded.append((item, value, result.previous))
    clear_draft(session, duty.person_id, period, [field_id(i) for i, _v in accepted])
    return saved, {}


def _check_pairs(session: Session, duty: Obligation, period: str, accepted: list[tuple[Item, Decimal]],
                 on_page: set[str], errors: dict[str, Text]) -> None:
    """Paired figures (stoppages and their minutes) on what this dialog typed and what is
    already stored; the message goes to the field to fill in, or to its partner when that
    field is on another page of the dialog."""
    paired = [i for i in duty.items if i.metric in PARTNER]
    if not paired:
        return
    stored = {(s.metric_key, s.customer_id): s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_([series_key(i.metric, period, i.customer_id) for i in paired]),
        FigureSubmission.is_current.is_(True)))}
    typed = {(i.metric, i.customer_id): v for i, v in accepted}
    if not any(key in typed for key in ((i.metric, i.customer_id) for i in paired)):
        return
    for (metric, customer), problem in pair_problems({**stored, **typed}).items():
        if Item(metric, customer) not in duty.items or Item(PARTNER[metric], customer) not in duty.items:
            continue  # the other half is someone else's to hand in: it may simply not be there yet
        target = field_id(Item(metric, customer))
        if target not in on_page:
            target = field_id(Item(PARTNER[metric], customer))
        if target in on_page:
            errors.setdefault(target, problem)


def save_draft(session: Session, person_id: int, period: str, values: dict[str, Any], now: dt.datetime) -> None:
    typed = {k: str(v) for k, v in values.items() if v not in (None, "") and (item_of(k) or k in ("note", "reason"))}
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == person_id,
                                                     FigureDraft.period == period))
    if draft is None:
        if typed:
            session.add(FigureDraft(person_id=person_id, period=period, values=typed, updated_at=now))
        return
    merged = dict(draft.values)
    merged.update(typed)
    draft.values = merged
    draft.updated_at = now


def clear_draft(session: Session, person_id: int, period: str, keys: list[str]) -> None:
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == person_id,
                                                     FigureDraft.period == period))
    if draft is None:
        return
    remaining = {k: v for k, v in draft.values.items() if k not in keys and k not in ("note", "reason")}
    if remaining:
        draft.values = remaining
    else:
        session.delete(draft)


def confirmation(session: Session, caller: Caller, period: str, saved: Saved) -> Message:
    _ = caller._
    locale = caller.locale or "zh-CN"
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = {c.id: c.code for c in session.scalars(select(Customer).where(
        Customer.id.in_({i.customer_id for i, _v, _p in saved.recorded if i.customer_id is not None})))}
    rows = [[customers.get(i.customer_id, "—") if i.customer_id else _("company"),
             pick(locale, metrics[i.metric].name_zh, metrics[i.metric].name_en),
             f"{_fmt(v)} {unit_name(_, metrics[i.metric].unit)}", _fmt(p) if p is not None else ""]
            for i, v, p in saved.recorded]
    text = _("Recorded {n} figure(s) for {period}. Thank you.").format(n=len(saved.recorded), period=period)
    parts: list = [Paragraph(text)]
    if rows:
        parts.append(Table([_("Customer"), _("Figure"), _("Value"), _("Earlier value")], rows[:40]))
    return Message(text=text, cards=[Card(title=_("Figures saved"), parts=parts)])
