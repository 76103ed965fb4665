"""The customers' contacts the surveys ask: imported from a sheet like people and
customers (`customer,name,phone,email,role,language[,active]`), all or nothing, updated by
customer and name on a second import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.i18n import normalize_locale
from bot.core.inputs import column_length
from bot.core.spreadsheets import ImportResult, RowErrors, cell_error, read_table, too_long
from bot.core.texts import T
from bot.people.customers import customer_lookup
from bot.people.directory import EMAIL
from storage.models import Customer, CustomerContact

COLUMNS = ["customer", "name"]
OPTIONAL = ["phone", "email", "role", "language", "active"]
NO = {"no", "n", "false", "0", "否", "停用"}


def import_contacts(session: Session, path: Path) -> ImportResult:
    customers = customer_lookup(session)
    codes = sorted({c.code for c in customers.values()})
    errors = RowErrors()
    records: dict[tuple[int, str], dict[str, Any]] = {}
    rows_of: dict[tuple[int, str], int] = {}
    for row in read_table(path, COLUMNS, OPTIONAL):
        v = row.values
        errors.extend(too_long(row, {"name": column_length(CustomerContact.name),
                                     "phone": column_length(CustomerContact.phone),
                                     "email": column_length(CustomerContact.email),
                                     "role": column_length(CustomerContact.role)}))
        customer = customers.get(v["customer"].strip().lower())
        if customer is None:
            errors.append(cell_error(row, "customer", T("no customer has this code or name."), codes))
        name = v["name"].strip()
        if not name:
            errors.append(cell_error(row, "name", T("a contact needs a name.")))
        email = v.get("email", "").strip()
        if email and not EMAIL.match(email):
            errors.append(cell_error(row, "email", T("not an e-mail address.")))
        language = v.get("language", "").strip()
        locale = normalize_locale(language, default="") if language else None
        if language and not locale:
            errors.append(cell_error(row, "language", T("zh-CN or en."), ["zh-CN", "en"]))
        if customer is None or not name:
            continue
        key = (customer.id, name.lower())
        if key in rows_of:
            errors.append(cell_error(row, "name", T("this customer's contact of this name is in row {row} already.",
                                                    row=rows_of[key])))
            continue
        rows_of[key] = row.number
        records[key] = {"customer_id": customer.id, "name": name, "phone": v.get("phone", "").strip(),
                        "email": email, "role": v.get("role", "").strip(), "locale": locale,
                        "active": v.get("active", "").strip().lower() not in NO}
    if errors:
        return ImportResult(errors=errors)
    existing = {(c.customer_id, c.name.lower()): c for c in session.scalars(select(CustomerContact))}
    created = updated = 0
    for key, record in records.items():
        contact = existing.get(key)
        if contact is None:
            session.add(CustomerContact(**record))
            created += 1
            continue
        for name, value in record.items():
            setattr(contact, name, value)
        updated += 1
    session.flush()
    return ImportResult(created=created, updated=updated)


def contacts_of(session: Session, customer_ids: list[int] | None = None) -> dict[int, list[CustomerContact]]:
    """Each active customer's active contacts, in a stable order (the sample draws from it)."""
    query = (select(CustomerContact).join(Customer, Customer.id == CustomerContact.customer_id)
             .where(CustomerContact.active.is_(True), Customer.active.is_(True))
             .order_by(CustomerContact.customer_id, CustomerContact.id))
    if customer_ids is not None:
        query = query.where(CustomerContact.customer_id.in_(customer_ids))
    found: dict[int, list[CustomerContact]] = {}
    for contact in session.scalars(query):
        found.setdefault(contact.customer_id, []).append(contact)
    return found


def list_contacts(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(CustomerContact, Customer.code).join(
        Customer, Customer.id == CustomerContact.customer_id).order_by(Customer.code, CustomerContact.name)).all()
    return [{"customer": code, "name": c.name, "phone": c.phone, "email": c.email, "role": c.role,
             "language": c.locale or "", "active": c.active} for c, code in rows]
