"""People and customers: imports from the company's spreadsheets, listings, look-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.i18n import normalize_locale, pick
from bot.core.inputs import column_length
from bot.core.spreadsheets import ImportResult, Row, RowError, RowErrors, read_table, too_long
from bot.core.texts import T, UserError
from bot.people.identities import canonical, is_valid_id, person_by_address
from storage.models import Customer, Person, PersonIdentity, PersonRole, Role

PEOPLE_COLUMNS = ["slack_user_id", "name", "roles", "department", "locale", "email"]
CUSTOMER_COLUMNS = ["code", "name_zh", "name_en", "segment", "owner_slack_user_id"]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")




def _role_lookup(session: Session) -> dict[str, str]:
    """Role keys, Chinese and English names (lower-cased) → key, so a sheet may use any."""
    lookup: dict[str, str] = {}
    for role in session.scalars(select(Role)):
        for name in (role.key, role.name_zh, role.name_en):
            lookup[name.strip().lower()] = role.key
    return lookup


def _validate_person(row: Row, roles: dict[str, str], seen: set[str]) -> tuple[dict[str, Any] | None, list[RowError]]:
    v = row.values
    errors: list[RowError] = too_long(row, {"name": column_length(Person.name),
                                            "department": column_length(Person.department),
                                            "email": column_length(Person.email)})
    user_id = v.get("slack_user_id", "").strip().upper()
    if user_id:  # empty for a person in WeCom only
        if not is_valid_id("slack", user_id):
            errors.append(RowError(row.number, T("slack_user_id {value!r} is not a Slack member ID (U…).",
                                                 value=user_id)))
        elif user_id in seen:
            errors.append(RowError(row.number, T("slack_user_id {value} appears twice in the file.", value=user_id)))
        seen.add(user_id)
    elif not v.get("wecom_user_id", "").strip():
        errors.append(RowError(row.number, T("slack_user_id and wecom_user_id are both empty: give at least one.")))
    name = v.get("name", "").strip()
    if not name:
        errors.append(RowError(row.number, T("name is empty.")))
    role_keys: list[str] = []
    for raw in re.split(r"[;；,，]", v.get("roles", "")):
        raw = raw.strip()
        if not raw:
            continue
        key = roles.get(raw.lower())
        if key is None:
            errors.append(RowError(row.number, T("Unknown role {value!r}; known roles: {known}.", value=raw,
                                                 known=", ".join(sorted(set(roles.values()))))))
        elif key not in role_keys:
            role_keys.append(key)
    locale_raw = v.get("locale", "").strip()
    locale = None
    if locale_raw:
        locale = normalize_locale(locale_raw, default="")
        if not locale:
            errors.append(RowError(row.number, T("locale {value!r} must be zh-CN or en.", value=locale_raw)))
    email = v.get("email", "").strip()
    if email and not EMAIL.match(email):
        errors.append(RowError(row.number, T("email {value!r} is not an e-mail address.", value=email)))
    wecom = canonical("wecom", v.get("wecom_user_id", ""))
    if wecom and not is_valid_id("wecom", wecom):
        errors.append(RowError(row.number, T("wecom_user_id {value!r} is not a WeCom userid (letters, digits, _ . @ -, "
                                             "at most 64).", value=wecom)))
    elif wecom and f"wecom:{wecom.lower()}" in seen:
        errors.append(RowError(row.number, T("wecom_user_id {value} appears twice in the file.", value=wecom)))
    if wecom:
        seen.add(f"wecom:{wecom.lower()}")
    if errors:
        return None, errors
    return {"slack_user_id": user_id or None, "name": name, "roles": role_keys,
            "department": v.get("department", "").strip(), "locale": locale, "email": email or None,
            "wecom_user_id": wecom or None}, []


def import_people(session: Session, path: Path) -> ImportResult:
    """All-or-nothing: a single bad row imports nothing. Re-importing updates by Slack ID, or
    by WeCom userid for a person in WeCom only. Each person needs one of the two."""
    rows = read_table(path, ["name", "roles"], ["slack_user_id", "department", "locale", "email", "wecom_user_id"])
    roles = _role_lookup(session)
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    errors = RowErrors()
    numbers: list[int] = []
    for row in rows:
        record, row_errors = _validate_person(row, roles, seen)
        errors.extend(row_errors)
        if record:
            records.append(record)
            numbers.append(row.number)
    wecom_owners = dict(session.execute(select(PersonIdentity.user_id, PersonIdentity.person_id).where(
        PersonIdentity.messenger == "wecom")).all())
    everyone = list(session.scalars(select(Person)))
    existing = {p.slack_user_id: p for p in everyone if p.slack_user_id}
    by_id = {p.id: p for p in everyone}

    def known(record: dict[str, Any]) -> Person | None:
        """The person a row is: by Slack id, else by WeCom userid (a person in WeCom only, who
        may now be given a Slack id too)."""
        if record["slack_user_id"] in existing:
            return existing[record["slack_user_id"]]
        owner = wecom_owners.get(record["wecom_user_id"]) if record["wecom_user_id"] else None
        person = by_id.get(owner) if owner is not None else None
        if person is not None and (not record["slack_user_id"] or person.slack_user_id is None):
            return person
        return None

    for row, record in zip(numbers, records, strict=True):
        owner = wecom_owners.get(record["wecom_user_id"]) if record["wecom_user_id"] else None
        mine = known(record)
        if owner is not None and (mine is None or mine.id != owner):
            errors.append(RowError(row, T("wecom_user_id {value} is someone else's already.",
                                          value=record["wecom_user_id"])))
    if errors:
        return ImportResult(errors=errors)
    created = updated = 0
    for record in records:
        person = known(record)
        if person is None:
            person = Person(slack_user_id=record["slack_user_id"], name=record["name"])
            session.add(person)
            created += 1
        else:
            updated += 1
        if record["slack_user_id"]:
            person.slack_user_id = record["slack_user_id"]
        person.name = record["name"]
        person.department = record["department"]
        person.locale = record["locale"]
        person.email = record["email"]
        if record["wecom_user_id"]:  # a file without the column keeps the WeCom ids known
            person.set_identity("wecom", record["wecom_user_id"])
        person.active = True
        wanted = set(record["roles"])
        person.roles = [r for r in person.roles if r.role_key in wanted] + [
            PersonRole(role_key=k) for k in record["roles"] if k not in {r.role_key for r in person.roles}
        ]
    session.flush()
    return ImportResult(created=created, updated=updated)


def import_customers(session: Session, path: Path) -> ImportResult:
    rows = read_table(path, ["code", "name_zh", "name_en"],
                      ["segment", "owner_slack_user_id", "owner_wecom_user_id", "address"])
    people = {p.slack_user_id: p.id for p in session.scalars(select(Person))}
    in_wecom = dict(session.execute(select(PersonIdentity.user_id, PersonIdentity.person_id).where(
        PersonIdentity.messenger == "wecom")).all())
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    errors = RowErrors()
    for row in rows:
        v = row.values
        row_errors = too_long(row, {"name_zh": column_length(Customer.name_zh),
                                    "name_en": column_length(Customer.name_en),
                                    "segment": column_length(Customer.segment),
                                    "address": column_length(Customer.address)})
        code = v.get("code", "").strip()
        if not code:
            row_errors.append(RowError(row.number, T("code is empty.")))
        elif len(code) > 64:
            row_errors.append(RowError(row.number, T("code is longer than 64 characters.")))
        elif code.lower() in seen:
            row_errors.append(RowError(row.number, T("code {value} appears twice in the file.", value=code)))
        seen.add(code.lower())
        name_zh, name_en = v.get("name_zh", "").strip(), v.get("name_en", "").strip()
        if not name_zh and not name_en:
            row_errors.append(RowError(row.number, T("name_zh and name_en are both empty.")))
        owner_raw = v.get("owner_slack_user_id", "").strip().upper()
        owner_id = None
        if owner_raw:
            owner_id = people.get(owner_raw)
            if owner_id is None:
                row_errors.append(RowError(row.number, T(
                    "owner_slack_user_id {value} is not in the people table; import people first.", value=owner_raw)))
        owner_wecom = canonical("wecom", v.get("owner_wecom_user_id", ""))
        if owner_wecom and not owner_raw:  # an owner in WeCom only
            owner_id = in_wecom.get(owner_wecom)
            if owner_id is None:
                row_errors.append(RowError(row.number, T(
                    "owner_wecom_user_id {value} is not in the people table; import people first.",
                    value=owner_wecom)))
        errors.extend(row_errors)
        if not row_errors:
            records.append({"code": code, "name_zh": name_zh or name_en, "name_en": name_en or name_zh,
                            "segment": v.get("segment", "").strip(), "owner_id": owner_id,
                            "address": v["address"].strip() if "address" in v else None})
    if errors:
        return ImportResult(errors=errors)
    existing = {c.code.lower(): c for c in session.scalars(select(Customer))}
    created = updated = 0
    for record in records:
        customer = existing.get(record["code"].lower())
        if customer is None:
            customer = Customer(code=record["code"])
            session.add(customer)
            created += 1
        else:
            updated += 1
        customer.name_zh = record["name_zh"]
        customer.name_en = record["name_en"]
        customer.segment = record["segment"]
        if record["address"] is not None:  # a file without the column keeps the addresses known
            customer.address = record["address"]
        customer.owner_id = record["owner_id"]
        customer.active = True
    session.flush()
    return ImportResult(created=created, updated=updated)


def find_person(session: Session, text: str) -> Person | None:
    """A person by Slack id (or `wecom:` userid), e-mail or exact name (as an administrator types them)."""
    text = text.strip()
    found = person_by_address(session, text) if text else None
    if found is not None:
        return found
    for column, value in ((func.lower(Person.email), text.lower()), (Person.name, text)):
        matches = list(session.scalars(select(Person).where(column == value, Person.active.is_(True))))
        if len(matches) > 1:
            raise UserError(T("{value} is more than one person ({ids}): give the Slack id or e-mail.", value=text,
                              ids=", ".join(p.slack_user_id or str(p.identity("wecom")) for p in matches)))
        if matches:
            return matches[0]
    return None


def people_with_role(session: Session, role: str) -> list[Person]:
    return list(session.scalars(
        select(Person).join(PersonRole).where(PersonRole.role_key == role, Person.active.is_(True))
        .order_by(Person.name)
    ))


def department_heads_of(session: Session, person: Person | None) -> list[Person]:
    """The department heads of the person's own department: nobody for a person without
    one (a late figure is not everyone's business)."""
    if person is None or not person.department:
        return []
    return [p for p in people_with_role(session, "department_head") if p.department == person.department]


def escalation_people(session: Session, chain: list[str], owner: Person | None) -> list[Person]:
    """The chain in order; a department head is the owner's (any, when the owner has no department)."""
    result: list[Person] = []
    for role in chain:
        candidates = people_with_role(session, role)
        if role == "department_head" and owner is not None and owner.department:
            same = [p for p in candidates if p.department == owner.department]
            candidates = same or candidates
        for person in candidates:
            if person not in result and (owner is None or person.id != owner.id):
                result.append(person)
    return result


def list_people(session: Session, with_role_names_in: str | None = None) -> list[dict[str, Any]]:
    """Everyone, by name; with `with_role_names_in` (the company locale) also each person's
    role names in their own language, falling back to it."""
    people = [
        {"slack_user_id": p.slack_user_id, "wecom_user_id": p.identity("wecom"), "name": p.name, "roles": p.role_keys,
         "department": p.department,
         "locale": p.locale, "email": p.email, "active": p.active}
        for p in session.scalars(select(Person).order_by(Person.name, Person.slack_user_id))
    ]
    if with_role_names_in is not None:
        roles = {r.key: r for r in session.scalars(select(Role))}
        for person in people:
            locale = person["locale"] or with_role_names_in
            person["role_names"] = [pick(locale, roles[k].name_zh, roles[k].name_en) for k in person["roles"]
                                    if k in roles]
    return people


def list_customers(session: Session) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "segment": c.segment,
         "owner_slack_user_id": c.owner.slack_user_id if c.owner else None,
         "owner_name": c.owner.name if c.owner else None, "active": c.active}
        for c in session.scalars(select(Customer).order_by(Customer.code))
    ]


def is_empty(session: Session) -> bool:
    people = session.scalar(select(func.count()).select_from(Person)) or 0
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    return people == 0 and customers == 0


@dataclass
class DepartmentSync:
    """What reading the departments from a messenger changed: people whose department it
    set, those already right, and the ids on either side without a match."""

    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    not_in_people: list[str] = field(default_factory=list)  # in the messenger, not imported here
    not_in_messenger: list[str] = field(default_factory=list)  # imported here, gone from the messenger


def sync_departments(session: Session, messenger: str, departments: dict[str, str], dry_run: bool = False
                     ) -> DepartmentSync:
    """Each person known by their id in `messenger` takes the department it names (by
    userid); nobody is created or removed: who has which role is the people import's."""
    result = DepartmentSync()
    longest = column_length(Person.department)
    known: dict[str, Person] = {}
    for person in session.scalars(select(Person).join(PersonIdentity).where(
            PersonIdentity.messenger == messenger, Person.active.is_(True))):
        user_id = person.identity(messenger)
        if user_id:
            known[user_id] = person
    for user_id, department in sorted((canonical(messenger, u), d) for u, d in departments.items()):
        person = known.get(user_id)
        if person is None:
            result.not_in_people.append(user_id)
        elif (person.department or "") == department[:longest]:
            result.unchanged += 1
        else:
            result.updated.append(user_id)
            if not dry_run:
                person.department = department[:longest]
    result.not_in_messenger = sorted(set(known) - {canonical(messenger, u) for u in departments})
    session.flush()
    return result
