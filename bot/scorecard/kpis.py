"""The customer KPI register (SPEC §2, customer-required performance, 004 §7.1).

Per customer, the KPIs it requires, each with a target and the side of it that meets it.
A month's achievement rate is the share of the applicable KPIs that met target: the bot
computes those it already knows (after-sales PPM from the 3MIS figure, response
timeliness from the month's complaint deadlines), the customer's owner hands in the rest
as the figure `kpi.<kpi>` in the monthly call. A month whose KPIs are not all known is
provisional until it closes; then a missing KPI counts as not met (or is left out, if the
company says so). A customer without a register keeps the typed `kpi_achievement_rate`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.periods import add_months, month_start
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, read_table, too_long
from bot.core.texts import T
from bot.datacall.figures import parse_number
from bot.people.customers import customer_lookup
from storage.models import Complaint, ComplaintDeadline, Customer, CustomerKpi, Metric

PREFIX = "kpi."
ACHIEVEMENT_RATE = "kpi_achievement_rate"  # typed directly, for a customer without a register
KPI_KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
DIRECTIONS = {"higher": "higher", "lower": "lower", "高": "higher", "低": "lower", "越高越好": "higher",
              "越低越好": "lower", ">=": "higher", "<=": "lower"}
YES = {"yes", "y", "true", "1", "是", "有效"}
NO = {"no", "n", "false", "0", "否", "停用"}
# KPIs the bot computes: from a figure it already collects, or from the complaint ledger
FROM_FIGURE = {"after_sales_ppm": "field_3mis_ppm"}
RESPONSE_TIMELINESS = "response_timeliness"
# the register entry for a customer that requires no KPIs: full marks, nothing asked, on record
NONE = "none"
# the procedure's KPIs (SPEC §2) and the unit their figure is typed in; a customer's own is a %
UNITS = {"regulatory_compliance": "%", "cpk": "index", "return_claim_rate": "%", "property_loss_rate": "%",
         "after_sales_ppm": "PPM", "response_timeliness": "%"}
UNIT_RANGES = {"%": (0, 100), "PPM": (0, 1_000_000), "index": (0, 100)}


def metric_key(kpi: str) -> str:
    return PREFIX + kpi


def is_computed(kpi: str) -> bool:
    """Not asked of anyone: computed, or the entry that says the customer requires none."""
    return kpi in FROM_FIGURE or kpi in (RESPONSE_TIMELINESS, NONE)


@dataclass(frozen=True)
class RegisteredKpi:
    customer_id: int
    kpi: str
    name_zh: str
    name_en: str
    target: float
    direction: str  # higher | lower
    valid_from: str

    @property
    def metric(self) -> str:
        return metric_key(self.kpi)

    def met(self, value: float) -> bool:
        return value >= self.target if self.direction == "higher" else value <= self.target


@dataclass(frozen=True)
class KpiResult:
    """One KPI in one month: its value and whether it met target. `value` None: not known;
    `met` None then while the month is open (provisional), False once it closed."""

    kpi: RegisteredKpi
    value: float | None
    met: bool | None
    source: str  # figure | computed | missing | not_applicable (no complaint deadline in the month)

    def to_json(self) -> dict[str, object]:
        return {"kpi": self.kpi.kpi, "name_zh": self.kpi.name_zh, "name_en": self.kpi.name_en,
                "target": self.kpi.target, "direction": self.kpi.direction, "value": self.value, "met": self.met,
                "source": self.source}


@dataclass(frozen=True)
class Achievement:
    rate: float | None  # met ÷ applicable × 100; None when nothing is applicable
    results: tuple[KpiResult, ...]
    provisional: bool

    @property
    def missing(self) -> list[str]:
        return [r.kpi.kpi for r in self.results if r.source == "missing"]


def achievement(results: Iterable[KpiResult]) -> Achievement:
    """Met ÷ applicable: a KPI not known yet is left out while the month is open (and the
    month is provisional); one counted as not met at close is applicable and unmet."""
    results = tuple(results)
    decided = [r for r in results if r.met is not None]
    provisional = any(r.source == "missing" and r.met is None for r in results)
    rate = round(100.0 * sum(1 for r in decided if r.met) / len(decided), 2) if decided else None
    return Achievement(rate, results, provisional)


class Register:
    """The whole register, loaded once; `in_force` answers for any month."""

    def __init__(self, rows: Iterable[CustomerKpi]) -> None:
        self._history: dict[int, dict[str, list[CustomerKpi]]] = defaultdict(lambda: defaultdict(list))
        for row in sorted(rows, key=lambda r: (r.valid_from, r.id)):
            self._history[row.customer_id][row.kpi].append(row)

    @classmethod
    def load(cls, session: Session, customer_ids: Iterable[int] | None = None) -> Register:
        query = select(CustomerKpi)
        if customer_ids is not None:
            query = query.where(CustomerKpi.customer_id.in_(list(customer_ids)))
        return cls(session.scalars(query))

    @property
    def customer_ids(self) -> set[int]:
        return set(self._history)

    @property
    def kpi_keys(self) -> set[str]:
        return {kpi for by_kpi in self._history.values() for kpi in by_kpi}

    def in_force(self, customer_id: int, month: str) -> list[RegisteredKpi]:
        result = []
        cid = customer_id
        for rows in self._history.get(customer_id, {}).values():
            current = None
            for row in rows:
                if row.valid_from <= month:
                    current = row
            if current is not None and current.active:
                result.append(RegisteredKpi(cid, current.kpi, current.name_zh, current.name_en,
                                            float(current.target), current.direction, current.valid_from))
        none = [k for k in result if k.kpi == NONE]
        return none or sorted(result, key=lambda k: k.kpi)  # "requires none" from its month retires the others

    def covers(self, customer_id: int, month: str) -> bool:
        """The customer keeps a register in `month` (even one whose KPIs were all retired,
        which requires none): the typed rate is not asked then."""
        return any(row.valid_from <= month for rows in self._history.get(customer_id, {}).values() for row in rows)


def figures_needed(register: Register) -> set[str]:
    """The metric keys a score needs to judge the register: the KPI figures and the figures
    computed KPIs come from."""
    return set(FROM_FIGURE.values()) | {metric_key(kpi) for kpi in register.kpi_keys}


def response_timeliness(session: Session, customer_ids: Iterable[int], months: list[str], tz: ZoneInfo,
                        now: dt.datetime) -> dict[tuple[int, str], float]:
    """Share of the customer's complaint deadlines due in the month that were met, in %.
    A deadline open past its due time is breached; a paused one, or one not due yet, waits.
    A month with no deadline decided has no value (the KPI does not apply that month)."""
    if not months:
        return {}
    start = dt.datetime.combine(month_start(min(months)), dt.time(0), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(month_start(add_months(max(months), 1)), dt.time(0), tz).astimezone(dt.UTC)
    rows = session.execute(
        select(Complaint.customer_id, ComplaintDeadline.state, ComplaintDeadline.due_at, Complaint.status)
        .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
        .where(Complaint.customer_id.in_(list(customer_ids)), ComplaintDeadline.due_at >= start,
               ComplaintDeadline.due_at < end)).all()
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])  # met, decided
    for customer_id, state, due_at, status in rows:
        local = due_at.astimezone(tz) if due_at.tzinfo else due_at.replace(tzinfo=dt.UTC).astimezone(tz)
        key = (customer_id, f"{local.year:04d}-{local.month:02d}")
        if state == "met":
            counts[key][0] += 1
            counts[key][1] += 1
        elif state == "breached" or (state == "open" and due_at <= now and status != "waiting_customer"):
            counts[key][1] += 1
    return {key: round(100.0 * met / decided, 2) for key, (met, decided) in counts.items() if decided}


def judge(kpis: list[RegisteredKpi], figures: dict[str, float], timeliness: float | None, closed: bool,
          missing_at_close: str) -> Achievement:
    """One customer's month. `figures`: the month's figures by metric key."""
    results = []
    for kpi in kpis:
        if kpi.kpi == NONE:
            continue
        if kpi.kpi == RESPONSE_TIMELINESS:
            value, source = timeliness, "computed"
            if value is None:  # no complaint deadline decided this month: the KPI does not apply
                results.append(KpiResult(kpi, None, None, "not_applicable"))
                continue
        elif kpi.kpi in FROM_FIGURE:
            value, source = figures.get(FROM_FIGURE[kpi.kpi]), "computed"
        else:
            value, source = figures.get(kpi.metric), "figure"
        if value is None:
            if closed and missing_at_close == "not_counted":
                continue
            results.append(KpiResult(kpi, None, False if closed else None, "missing"))
        else:
            results.append(KpiResult(kpi, value, kpi.met(value), source))
    return achievement(results)


# --- the register as a file ---------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    customer_id: int
    kpi: str
    name_zh: str
    name_en: str
    target: Decimal
    direction: str
    active: bool
    unit: str


def import_kpis(session: Session, path: Path, valid_from: str, now: dt.datetime, by: int | None = None,
                dry_run: bool = False) -> ImportResult:
    """`customer, kpi, name_zh, name_en, target, direction` (`higher` or `lower`), optional
    `unit` and `active`. A changed KPI gets a new entry valid from `valid_from`; earlier
    months keep the register in force then. All or nothing."""
    rows = read_table(path, ["customer", "kpi", "name_zh", "name_en", "target", "direction"],
                      optional=["unit", "active"])
    customers = customer_lookup(session)
    errors = RowErrors()
    parsed: list[KpiRow] = []
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        v = row.values
        before = len(errors)
        errors.extend(too_long(row, {"name_zh": 200, "name_en": 200}))
        customer = customers.get(v["customer"].strip().lower())
        if customer is None:
            errors.append(RowError(row.number, T("Unknown customer {value!r}.", value=v["customer"])))
        kpi = v["kpi"].strip().lower().removeprefix(PREFIX)
        if not KPI_KEY.match(kpi):
            errors.append(RowError(row.number, T(
                "KPI key {value!r}: use lower-case letters, digits and _ (for example cpk).", value=v["kpi"])))
        name_zh, name_en = v["name_zh"].strip(), v["name_en"].strip()
        if kpi == NONE and not name_zh and not name_en:
            name_zh, name_en = "不要求KPI", "No KPIs required"
        if not name_zh and not name_en:
            errors.append(RowError(row.number, T("The KPI needs a name (name_zh or name_en).")))
        if kpi == NONE:  # the customer requires no KPIs: target and direction do not apply
            v = {**v, "target": v["target"].strip() or "0", "direction": v["direction"].strip() or "higher"}
        target = parse_number(v["target"])
        if target is None:
            errors.append(RowError(row.number, T("Target {value!r} is not a number.", value=v["target"])))
        direction = DIRECTIONS.get(v["direction"].strip().lower())
        if direction is None:
            errors.append(RowError(row.number, T("Direction {value!r}: use higher or lower.", value=v["direction"])))
        unit = (v.get("unit") or "").strip() or UNITS.get(kpi, "%")
        if unit not in UNIT_RANGES:
            errors.append(RowError(row.number, T("Unit {value!r}: use %, PPM or index.", value=unit)))
        elif target is not None and not UNIT_RANGES[unit][0] <= target <= UNIT_RANGES[unit][1]:
            errors.append(RowError(row.number, T("Target {value} is outside {low}–{high} {unit}.", value=v["target"],
                                                 low=UNIT_RANGES[unit][0], high=UNIT_RANGES[unit][1], unit=unit)))
        active_text = (v.get("active") or "").strip().lower()
        if active_text and active_text not in YES | NO:
            errors.append(RowError(row.number, T("Active {value!r}: use yes or no.", value=v["active"])))
        if len(errors) > before or customer is None or target is None or direction is None:
            continue
        if (customer.id, kpi) in seen:
            errors.append(RowError(row.number, T("The same KPI is already in row {row}.",
                                                 row=seen[(customer.id, kpi)])))
            continue
        seen[(customer.id, kpi)] = row.number
        parsed.append(KpiRow(customer.id, kpi, name_zh or name_en, name_en or name_zh, target, direction,
                             active_text not in NO, unit))
    for customer_id in {r.customer_id for r in parsed if r.kpi == NONE and r.active}:
        if any(r.customer_id == customer_id and r.kpi != NONE and r.active for r in parsed):
            errors.append(RowError(seen[(customer_id, NONE)], T(
                "A customer that requires no KPIs (none) has none listed: remove its other rows or this one.")))
    if errors:
        return ImportResult(errors=errors)
    register = Register.load(session, {r.customer_id for r in parsed})
    created = unchanged = 0
    for item in parsed:
        current = register.in_force(item.customer_id, valid_from)
        same = next((k for k in current if k.kpi == item.kpi), None)
        if (same is not None and item.active and same.target == float(item.target) and same.direction == item.direction
                and (same.name_zh, same.name_en) == (item.name_zh, item.name_en)) or (same is None and not item.active):
            unchanged += 1
            continue
        created += 1
        if not dry_run:
            register_kpi(session, item, valid_from, now, by)
    session.flush()
    return ImportResult(created=created, unchanged=unchanged)


def register_kpi(session: Session, item: KpiRow, valid_from: str, now: dt.datetime, by: int | None) -> None:
    """The entry valid from `valid_from` (one per month: a second change that month replaces it)."""
    if item.kpi != NONE:
        _ensure_metric(session, item)
    existing = session.scalar(select(CustomerKpi).where(
        CustomerKpi.customer_id == item.customer_id, CustomerKpi.kpi == item.kpi, CustomerKpi.valid_from == valid_from))
    if existing is None:
        existing = CustomerKpi(customer_id=item.customer_id, kpi=item.kpi, valid_from=valid_from)
        session.add(existing)
    existing.name_zh, existing.name_en = item.name_zh, item.name_en
    existing.target, existing.direction, existing.active = item.target, item.direction, item.active
    existing.entered_at, existing.entered_by_id = now, by
    session.flush()


def _ensure_metric(session: Session, item: KpiRow) -> None:
    """The figure `kpi.<kpi>` exists as a metric, so it is imported, shown and versioned like
    any figure. It is asked per customer by the register, never of everyone."""
    key = metric_key(item.kpi)
    metric = session.get(Metric, key)
    low, high = UNIT_RANGES[item.unit]
    if metric is None:
        order = (session.scalar(select(func.max(Metric.sort_order))) or 0) + 1
        session.add(Metric(key=key, name_zh=item.name_zh, name_en=item.name_en, unit=item.unit, min_value=low,
                           max_value=high, higher_is_better=item.direction == "higher", owner_role="sales_manager",
                           scope="customer", in_monthly_call=False, target=None, active=True, sort_order=order))
        session.flush()


def register_rows(session: Session, month: str, customer_ids: Iterable[int] | None = None
                  ) -> dict[int, list[RegisteredKpi]]:
    register = Register.load(session, customer_ids)
    return {cid: kpis for cid in sorted(register.customer_ids) if (kpis := register.in_force(cid, month))}


def register_listing(session: Session, month: str, customer_ids: Iterable[int] | None = None
                     ) -> list[dict[str, object]]:
    """The register in force in `month`, as rows for a listing or JSON."""
    register = Register.load(session, customer_ids)
    codes = customer_codes(session)
    return [{"customer": codes.get(k.customer_id, "?"), "kpi": k.kpi, "name_zh": k.name_zh, "name_en": k.name_en,
             "target": k.target, "direction": k.direction, "valid_from": k.valid_from,
             "computed": is_computed(k.kpi)}
            for cid in sorted(register.customer_ids, key=lambda c: codes.get(c, ""))
            for k in register.in_force(cid, month)]


def customer_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Customer.id, Customer.code)).all())
