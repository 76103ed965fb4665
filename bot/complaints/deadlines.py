"""Complaint deadlines from the SLA policy: elapsed hours and days as the documents write
them, and "N working days" as the end of the Nth working day after the day of receipt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.stored_settings import setting
from storage.models import SlaPolicy

MILESTONES = ("register", "first_response", "investigation", "eight_d", "close")


@dataclass(frozen=True)
class Rule:
    milestone: str
    amount: int
    unit: str


def due_at(received_at: dt.datetime, rule: Rule, calendar: WorkingCalendar, tz: ZoneInfo) -> dt.datetime:
    if rule.unit == "hours":
        return received_at + dt.timedelta(hours=rule.amount)
    if rule.unit == "days":
        return received_at + dt.timedelta(days=rule.amount)
    if rule.unit == "working_days":
        local_day = received_at.astimezone(tz).date()
        last_day = calendar.nth_working_day_after(local_day, rule.amount)
        return dt.datetime.combine(last_day, dt.time(23, 59, 59), tz).astimezone(dt.UTC)
    raise ValueError(f"unknown SLA unit {rule.unit!r}")


class SlaPolicyBook:
    """The rules in force: a customer's own rule beats the company's; a rule for the
    severity beats the one for every severity."""

    def __init__(self, rows: list[SlaPolicy]) -> None:
        self.rules = {(r.customer_key, r.milestone, r.severity): Rule(r.milestone, r.amount, r.unit) for r in rows}

    @classmethod
    def load(cls, session: Session) -> SlaPolicyBook:
        return cls(list(session.scalars(select(SlaPolicy))))

    def rule(self, milestone: str, severity: str, customer_id: int | None = None) -> Rule | None:
        customer_keys = ([str(customer_id)] if customer_id is not None else []) + ["*"]
        for customer_key in customer_keys:
            for sev in (severity, "*"):
                found = self.rules.get((customer_key, milestone, sev))
                if found:
                    return found
        return None

    def customer_sets(self, milestone: str, severity: str, customer_id: int | None) -> bool:
        """Whether the customer has a rule of its own for this deadline."""
        return customer_id is not None and any((str(customer_id), milestone, sev) in self.rules
                                               for sev in (severity, "*"))

    def closes_after_eight_d(self, severity: str, customer_id: int | None) -> bool:
        """Whether closing is kept after the 8D (the procedure's order): under the company's
        rules always; a customer's own closing or 8D rule is kept as it is."""
        return not (self.customer_sets("close", severity, customer_id)
                    or self.customer_sets("eight_d", severity, customer_id))

    def deadlines(self, received_at: dt.datetime, severity: str, customer_id: int | None,
                  calendar: WorkingCalendar, tz: ZoneInfo) -> dict[str, dt.datetime]:
        """Each deadline by its rule. The company's rules keep the procedure's order, closing
        after the 8D (a 3-day close before a 2-working-day 8D that spans a holiday would
        otherwise come first); a customer's own rules are kept as they are."""
        result = {}
        for milestone in MILESTONES:
            rule = self.rule(milestone, severity, customer_id)
            if rule is not None:
                result[milestone] = due_at(received_at, rule, calendar, tz)
        close, eight_d = result.get("close"), result.get("eight_d")
        if close is not None and eight_d is not None and close < eight_d and self.closes_after_eight_d(
                severity, customer_id):
            result["close"] = eight_d
        return result


UNITS = ("hours", "days", "working_days")


def set_rule(session: Session, customer_id: int | None, milestone: str, severity: str, amount: int,
             unit: str) -> None:
    """A company rule (customer_id None) or a customer's own (e.g. its 8D deadline)."""
    from bot.core.texts import T, UserError

    if milestone not in MILESTONES:
        raise UserError(T("Unknown deadline {value!r}; use one of {known}.", value=milestone,
                          known=", ".join(MILESTONES)))
    if unit not in UNITS:
        raise UserError(T("Unknown unit {value!r}; use one of {known}.", value=unit, known=", ".join(UNITS)))
    if amount <= 0:
        raise UserError(T("The amount must be positive."))
    key = str(customer_id) if customer_id is not None else "*"
    row = session.scalar(select(SlaPolicy).where(SlaPolicy.customer_key == key, SlaPolicy.milestone == milestone,
                                                 SlaPolicy.severity == severity))
    if row is None:
        session.add(SlaPolicy(customer_id=customer_id, customer_key=key, milestone=milestone, severity=severity,
                              amount=amount, unit=unit))
    else:
        row.amount, row.unit = amount, unit


def list_rules(session: Session) -> list[dict[str, object]]:
    from storage.models import Customer

    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    return [{"customer": codes.get(r.customer_id) if r.customer_id else None, "milestone": r.milestone,
             "severity": r.severity, "amount": r.amount, "unit": r.unit}
            for r in session.scalars(select(SlaPolicy).order_by(SlaPolicy.customer_key, SlaPolicy.milestone))]


def complaint_settings(session: Session) -> dict[str, Any]:
    return setting(session, "complaints")


COMPANY_TZ = ZoneInfo("Asia/Shanghai")  # the default company time zone, as in the settings
