"""Company settings kept in the database (seeded from defaults.toml, editable per company)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.core.defaults import load_defaults
from storage.models import SettingValue


def setting(session: Session, key: str) -> dict[str, Any]:
    """The stored value, with defaults for any key the company has not set."""
    defaults = dict(load_defaults().get(key, {}))
    row = session.get(SettingValue, key)
    if row is not None:
        defaults.update(row.value)
    return defaults


def data_call_settings(session: Session) -> dict[str, Any]:
    return setting(session, "data_call")
