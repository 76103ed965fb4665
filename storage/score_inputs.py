"""Counting the changes to what monthly scores are computed from, in the transaction that
makes them: every ORM flush and every ORM statement (bulk insert, update, delete) on a
table scores read raises the version of each customer whose rows it touches, or the shared
version (customer 0) when it touches what every customer's score reads (the rules, the
metrics, the settings, the working calendar) or when its rows cannot be told apart. A
stored score remembers the versions it was computed from; one computed from older inputs
is recomputed. Registered on every session when storage is imported, so that no writer
(a dialog, an import, a job, the command line) can change an input and leave a stored
score standing. SQL run outside a session (a migration) must clear `monthly_scores`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage.models import Base, ScoreInputsVersion

SHARED = 0
# table -> the column naming the customer whose scores its rows feed
BY_CUSTOMER = {"scorecard_events": "customer_id", "figure_submissions": "customer_id",
               "customer_kpis": "customer_id", "customers": "id", "complaints": "customer_id"}
BY_COMPLAINT = {"complaint_deadlines", "complaint_pauses"}  # rows of a complaint, whose customer it is
FOR_EVERYONE = {"scorecard_rule_sets", "scorecard_rules", "grade_bands", "metrics", "settings",
                "calendar_days", "calendar_years"}
WATCHED = set(BY_CUSTOMER) | BY_COMPLAINT | FOR_EVERYONE
# settings rows that are bookkeeping, not rules (how far a job has come): registered by
# their owners; a key not registered counts as an input, which is the safe side
NOT_INPUTS: set[str] = set()


def not_an_input(setting_key: str) -> str:
    NOT_INPUTS.add(setting_key)
    return setting_key


def raise_versions(connection: Connection, customers: Iterable[int | None]) -> None:
    """One more change to the inputs of each customer's scores (None, or SHARED: everyone's)."""
    ids = sorted({SHARED if c is None else int(c) for c in customers})
    if not ids:
        return
    table = ScoreInputsVersion.__table__
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values([{"customer_id": c, "version": 1} for c in ids])
    connection.execute(statement.on_conflict_do_update(
        index_elements=[table.c.customer_id], set_={"version": table.c.version + 1}))


def _customers_of_complaints(connection: Connection, complaint_ids: Iterable[Any]) -> set[int | None]:
    complaints = Base.metadata.tables["complaints"]
    wanted = [c for c in complaint_ids if c is not None]
    if not wanted:
        return set()
    return set(connection.scalars(select(complaints.c.customer_id).where(complaints.c.id.in_(wanted))))


def _object_customers(session: Session, instance: Any) -> set[int | None] | None:
    """The customers whose inputs a changed object is, None when it is everyone's; an empty
    set for what scores do not read."""
    table = getattr(instance, "__table__", None)
    name = table.name if table is not None else ""
    if name == "settings" and getattr(instance, "key", None) in NOT_INPUTS:
        return set()
    if name in FOR_EVERYONE:
        return None
    state = inspect(instance)
    if name in BY_CUSTOMER or name in BY_COMPLAINT:
        column = table.c[BY_CUSTOMER.get(name, "complaint_id")]  # type: ignore[union-attr]
        key = state.mapper.get_property_by_column(column).key
        history = state.attrs[key].history
        values = {*history.added, *history.unchanged, *history.deleted} or {getattr(instance, key)}
        if name in BY_COMPLAINT:
            return _customers_of_complaints(session.connection(), values)
        return values
    return set()


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    customers: set[int | None] = set()
    for instance in [*session.new, *session.dirty, *session.deleted]:
        if instance in session.dirty and not session.is_modified(instance):
            continue
        found = _object_customers(session, instance)
        if found is None:
            customers.add(SHARED)
        else:
            customers |= found
    raise_versions(session.connection(), customers)


def _rows(parameters: Any) -> list[dict[str, Any]]:
    if isinstance(parameters, dict):
        return [parameters]
    if isinstance(parameters, list | tuple):
        return [p for p in parameters if isinstance(p, dict)]
    return []


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # a bound parameter's value


def _bookkeeping_only(state: ORMExecuteState, table: Table, rows: list[dict[str, Any]]) -> bool:
    """Whether a statement on the settings touches only rows registered as not inputs."""
    if not NOT_INPUTS:
        return False
    if state.is_insert:
        statement: Any = state.statement
        keys = [row.get("key") for row in rows]
        for values in getattr(statement, "_multi_values", ()):  # insert(...).values([...])
            keys += [_plain(row.get("key", row.get(table.c.key))) for row in values]
        if getattr(statement, "_values", None):  # insert(...).values(key=...)
            keys.append(_plain(statement._values.get("key", statement._values.get(table.c.key))))
        return bool(keys) and all(key in NOT_INPUTS for key in keys)
    where = getattr(state.statement, "whereclause", None)
    if where is None:
        return False
    keys = set(state.session.connection().scalars(select(table.c.key).where(where)))
    return keys <= NOT_INPUTS


def _statement_customers(state: ORMExecuteState, table: Table) -> set[int | None]:
    """The customers an ORM insert, update or delete on `table` touches; {SHARED} when that
    cannot be told from the statement."""
    rows = _rows(state.parameters)
    connection = state.session.connection()
    name = table.name
    column = BY_CUSTOMER.get(name, "complaint_id")
    if name == "settings" and _bookkeeping_only(state, table, rows):
        return set()
    if name in FOR_EVERYONE:
        return {SHARED}
    if state.is_insert:
        values = [row.get(column, SHARED) for row in rows]
        if not values:
            return {SHARED}
        return _customers_of_complaints(connection, values) if name in BY_COMPLAINT else set(values)
    statement: Any = state.statement
    assigned = {getattr(key, "key", key) for key in getattr(statement, "_values", None) or {}}
    if any(column in row for row in rows) or column in assigned:
        return {SHARED}  # rows moved to another customer
    where = statement.whereclause
    if where is None:  # a bulk update by primary key: the keys are in the rows
        keys = [row.get("id") for row in rows]
        if not keys or None in keys:
            return {SHARED}
        where = table.c.id.in_(keys)
    touched = set(connection.scalars(select(table.c[column]).where(where)))
    return _customers_of_complaints(connection, touched) if name in BY_COMPLAINT else touched


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if not isinstance(table, Table) or table.name not in WATCHED:
        return
    raise_versions(state.session.connection(), _statement_customers(state, table))


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "do_orm_execute", _do_orm_execute)
