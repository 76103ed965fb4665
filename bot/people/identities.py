"""Messenger identities: how each messenger names a person, and what such a name looks like,
so that an import can refuse a typo before anyone is called by it."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Person, PersonIdentity

# messenger → the shape of its user ids (Slack member ids; WeCom userids are set by the company)
ID_FORMATS: dict[str, re.Pattern[str]] = {
    "slack": re.compile(r"^[UW][A-Z0-9]{2,}$"),
    "wecom": re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$"),
}


def canonical(messenger: str, user_id: str) -> str:
    """An id as csatbot keeps and compares it: WeCom's userids do not tell case apart (its
    address book says so), so `LiSi` and `lisi` are one person, kept in lower case."""
    user_id = (user_id or "").strip()
    return user_id.lower() if messenger == "wecom" else user_id


def is_valid_id(messenger: str, user_id: str) -> bool:
    return bool(ID_FORMATS[messenger].match(user_id))


def person_by_identity(session: Session, messenger: str, user_id: str, active_only: bool = True) -> Person | None:
    user_id = canonical(messenger, user_id)
    query = (select(Person).join(PersonIdentity)
             .where(PersonIdentity.messenger == messenger, PersonIdentity.user_id == user_id))
    if active_only:
        query = query.where(Person.active.is_(True))
    return session.scalar(query)


def address(messenger: str, user_id: str) -> str:
    """Where a person is written to: a Slack member id as it is, any other messenger's id
    under its name (`wecom:zhangsan`), so one outbox serves both."""
    return user_id if messenger == "slack" else f"{messenger}:{user_id}"


def person_by_address(session: Session, where: str) -> Person | None:
    """The active person an address names (`U123…` in Slack, `wecom:zhangsan` in WeCom): how
    a caller, a chosen person or an outbox target is found whatever the messenger."""
    messenger, _, user_id = where.partition(":") if ":" in where else ("slack", "", where)
    return person_by_identity(session, messenger, user_id) if messenger in ID_FORMATS else None


def address_of(person: Person) -> str | None:
    """Where the outbox sends what is for this person: their Slack id, or their WeCom
    userid's address for a person in WeCom only; None for someone csatbot cannot reach."""
    for messenger in ("slack", "wecom"):
        user_id = person.identity(messenger)
        if user_id:
            return address(messenger, user_id)
    return None
