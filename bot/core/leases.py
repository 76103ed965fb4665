"""Leases: a role one process plays at a time, elected through the shared database. The
holder renews its lease before it expires; when it stops renewing (stopped, crashed, cut
off), another takes the role once the lease has run out. Both steps are one conditional
statement, so two contenders never both win, on SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Lease

SCHEDULER = "scheduler"


def contender_id() -> str:
    """This process, unique even where host names and process ids repeat (containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:200]


def hold(factory: sessionmaker[Session], name: str, holder: str, now: dt.datetime, seconds: float) -> bool:
    """Take or renew the lease `name` for `seconds` from `now`; True if `holder` has it."""
    until = now + dt.timedelta(seconds=seconds)
    with factory() as session:
        taken = session.execute(
            update(Lease).where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=until))
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            session.commit()
            return True
        session.rollback()
        if session.get(Lease, name) is not None:
            return False
        session.add(Lease(name=name, holder=holder, expires_at=until))
        try:
            session.commit()
            return True
        except IntegrityError:  # another contender created it first
            session.rollback()
            return False


def release(factory: sessionmaker[Session], name: str, holder: str, now: dt.datetime) -> None:
    """Give the lease up at once (a clean stop), so another need not wait for it to run out."""
    with factory() as session:
        session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now))
        session.commit()
