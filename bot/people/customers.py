"""Customers and how people find them: by code, by a Chinese or English name, or by a
part of one, with suggestions when nothing matches."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.core.i18n import pick
from bot.core.inputs import clean_text
from bot.core.texts import T, UserError
from bot.core.views import Option
from storage.models import Customer


def all_customers(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Customer.id, Customer.code).where(Customer.active.is_(True))
                                .order_by(Customer.code)).all())


@dataclass
class CustomerMatch:
    found: Customer | None
    candidates: list[Customer]
    suggestions: list[Customer]


def exact_customer_id(session: Session, query: str | None) -> int | None:
    """A command's `--customer`: None when not given; an unknown one is refused, by name."""
    if not query:
        return None
    customer = exact_customer(session, query)
    if customer is None:
        raise unknown_customer(session, query)
    return customer.id


def unknown_customer(session: Session, query: str) -> UserError:
    """Refused, as the chat does it: with the customers the text could mean, so the next try
    can give one exactly."""
    match = find_customer(session, query)
    near = match.candidates or match.suggestions
    if not near:
        return UserError(T("Unknown customer {value!r}.", value=query))
    names = ", ".join(f"{c.code} {c.name_zh} / {c.name_en}" for c in near[:5])
    return UserError(T("Unknown customer {value!r}; did you mean {names}? Give the code.", value=query,
                       names=names))


def exact_customer(session: Session, query: str) -> Customer | None:
    """For audits and scripts: the exact code or name, never a guess."""
    customer = find_customer(session, query).found
    text = clean_text(query).strip().lower()
    if customer is not None and text in (customer.code.lower(), customer.name_zh.lower(), customer.name_en.lower()):
        return customer
    return None


def find_customer(session: Session, query: str, limit: int = 10) -> CustomerMatch:
    """Exact code first; then code, Chinese or English name containing the text; nothing
    found suggests the closest names."""
    text = clean_text(query).strip()
    if not text:
        return CustomerMatch(None, [], [])
    exact = session.scalar(select(Customer).where(func.lower(Customer.code) == text.lower(),
                                                  Customer.active.is_(True)))
    if exact is not None:
        return CustomerMatch(exact, [exact], [])
    pattern = f"%{text.lower()}%"
    candidates = list(session.scalars(
        select(Customer).where(Customer.active.is_(True), or_(
            func.lower(Customer.code).like(pattern), func.lower(Customer.name_zh).like(pattern),
            func.lower(Customer.name_en).like(pattern))).order_by(Customer.code).limit(limit + 1)))
    exact_names = [c for c in candidates if text.lower() in (c.name_zh.lower(), c.name_en.lower())]
    if len(exact_names) == 1:
        return CustomerMatch(exact_names[0], exact_names, [])
    if len(candidates) == 1:
        return CustomerMatch(candidates[0], candidates, [])
    if candidates:
        return CustomerMatch(None, candidates[:limit], [])
    everyone = list(session.scalars(select(Customer).where(Customer.active.is_(True))))
    names: dict[str, Customer] = {}
    for customer in everyone:
        for name in (customer.code, customer.name_zh, customer.name_en):
            names[name.lower()] = customer
    close = difflib.get_close_matches(text.lower(), list(names), n=5, cutoff=0.3)
    suggestions: list[Customer] = []
    for name in close:
        if names[name] not in suggestions:
            suggestions.append(names[name])
    return CustomerMatch(None, [], suggestions[:3])


def customer_lookup(session: Session) -> dict[str, Customer]:
    """Code, Chinese and English names (lower-cased) → customer, for imports."""
    lookup: dict[str, Customer] = {}
    for customer in session.scalars(select(Customer)):
        for name in (customer.name_en, customer.name_zh, customer.code):
            lookup[name.strip().lower()] = customer
    return lookup


def customer_label(customer: Customer, locale: str) -> str:
    return f"{customer.code} · {pick(locale, customer.name_zh, customer.name_en)}"


OPTION_LIMIT = 100


def customer_options(session: Session, locale: str, text: str) -> list[Option]:
    """The customer search of every dialog: code, Chinese or English name containing the text."""
    query = select(Customer).where(Customer.active.is_(True)).order_by(Customer.code).limit(OPTION_LIMIT)
    typed = clean_text(text).strip().lower()
    if typed:
        pattern = f"%{typed}%"
        query = query.where(or_(func.lower(Customer.code).like(pattern), func.lower(Customer.name_zh).like(pattern),
                                func.lower(Customer.name_en).like(pattern)))
    return [Option(c.code, customer_label(c, locale)) for c in session.scalars(query)]
