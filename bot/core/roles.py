"""The one place that decides who may run which command, press which button, see which figure."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.defaults import load_defaults

EVERYONE = "*"


def permission_table(overrides: dict[str, list[str]] | None = None) -> dict[str, frozenset[str]]:
    table = {k: frozenset(v) for k, v in load_defaults()["permissions"].items()}
    for key, roles in (overrides or {}).items():
        table[key] = frozenset(roles)
    return table


class Authorizer:
    """Answers `may this person do that`; a company overrides the table in its TOML file."""

    def __init__(self, overrides: dict[str, list[str]] | None = None) -> None:
        self.table = permission_table(overrides)

    def allows(self, roles: Iterable[str], permission: str) -> bool:
        allowed = self.table.get(permission)
        if allowed is None:
            raise KeyError(f"unknown permission {permission!r}")
        return EVERYONE in allowed or bool(allowed.intersection(roles))

    def may_see_costs(self, roles: Iterable[str]) -> bool:
        return self.allows(roles, "figures.view_costs")

    def roles_for(self, permission: str) -> frozenset[str]:
        return self.table[permission]
