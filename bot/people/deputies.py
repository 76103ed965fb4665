"""Handing a role to a deputy for a period (leave, vacancy): the deputy is called instead,
and what they hand in is recorded as on behalf of the person."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.texts import T, Text, UserError
from storage.models import Person, Role, RoleDelegation


class DelegationRefused(UserError):
    """Why a hand-over cannot be recorded, with the dialog field it is about."""

    def __init__(self, text: Text, field: str) -> None:
        super().__init__(text)
        self.field = field


def add_delegation(session: Session, person: Person, deputy: Person | None, role: str, start: dt.date,
                   end: dt.date, created_by: int | None, now: dt.datetime, *,
                   by_administrator: bool = False) -> RoleDelegation:
    """`by_administrator`: the command line, which may hand over anyone's role and speaks of
    them by name."""
    if deputy is None:
        raise DelegationRefused(T("The deputy is not in the people list."), "deputy")
    if deputy.id == person.id:
        raise DelegationRefused(T("A deputy must be someone else."), "deputy")
    known = {r.key: r for r in session.scalars(select(Role))}
    key = next((k for k, r in known.items() if role.lower() in (k, r.name_zh.lower(), r.name_en.lower())), None)
    if key is None or key not in person.role_keys:
        if by_administrator:
            raise DelegationRefused(T("{value!r} is not one of {name}'s roles ({roles}).", value=role,
                                      name=person.name, roles=", ".join(person.role_keys) or "—"), "role")
        raise DelegationRefused(T("{value!r} is not one of your roles ({roles}).", value=role,
                                  roles=", ".join(person.role_keys) or "—"), "role")
    if end < start:
        raise DelegationRefused(T("The period ends before it starts."), "end")
    overlapping = session.scalar(select(RoleDelegation).where(
        RoleDelegation.person_id == person.id, RoleDelegation.role_key == key,
        RoleDelegation.start_date <= end, RoleDelegation.end_date >= start))
    if overlapping is not None:
        raise DelegationRefused(T("That role is already handed over from {start} to {end}.",
                                  start=overlapping.start_date.isoformat(), end=overlapping.end_date.isoformat()),
                                "start")
    delegation = RoleDelegation(person_id=person.id, deputy_id=deputy.id, role_key=key, start_date=start,
                                end_date=end, created_by_id=created_by, created_at=now)
    session.add(delegation)
    session.flush()
    return delegation


def list_delegations(session: Session) -> list[dict[str, object]]:
    people = {p.id: p for p in session.scalars(select(Person))}
    return [{"person": people[d.person_id].slack_user_id, "deputy": people[d.deputy_id].slack_user_id,
             "role": d.role_key, "from": d.start_date.isoformat(), "to": d.end_date.isoformat()}
            for d in session.scalars(select(RoleDelegation).order_by(RoleDelegation.start_date))]
