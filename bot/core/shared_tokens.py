"""An access token a messenger lends for a while (WeCom's lives 7,200 s), kept in the database
so that every worker and replica uses one and asks for a new one only when it nears its end
or the messenger says it is no longer valid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from storage.db import insert_ignoring_conflicts
from storage.models import SettingValue
from storage.score_inputs import not_an_input

EARLY = dt.timedelta(minutes=5)  # renewed this long before it runs out


def shared_token(session: Session, name: str, now: dt.datetime, fetch: Callable[[], tuple[str, int]],
                 renew: bool = False) -> tuple[str, dt.datetime]:
    """The stored token and when it is to be renewed, or a new one from `fetch()` (token,
    lifetime in seconds) when there is none, it is about to run out, or `renew` (the
    messenger refused the stored one)."""
    key = not_an_input(f"token:{name}")  # renewing a token changes no score
    row = session.get(SettingValue, key)
    if row is not None and not renew:
        expires = dt.datetime.fromisoformat(str(row.value.get("expires_at")))
        if expires - EARLY > now:
            return str(row.value["token"]), expires - EARLY
    token, lifetime = fetch()
    expires = now + dt.timedelta(seconds=lifetime)
    value = {"token": token, "expires_at": expires.isoformat()}
    if row is None:  # a second replica inserting at the same moment is not an error
        insert_ignoring_conflicts(session, SettingValue, [{"key": key, "value": value, "updated_at": now}])
        row = session.get(SettingValue, key)
    if row is not None:
        row.value = value
        row.updated_at = now
    session.flush()
    return token, expires - EARLY
