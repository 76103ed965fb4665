"""Who is asking: the person behind a messenger identity, their roles and their language.
Every use case takes one; `bot.people.callers.identify` makes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.i18n import Gettext, gettext_for


@dataclass
class Caller:
    user_id: str
    locale: str | None  # None until the messenger has been asked
    person_id: int | None = None
    name: str = ""
    roles: list[str] = field(default_factory=list)
    role_names: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.person_id is not None

    @property
    def _(self) -> Gettext:
        return gettext_for(self.locale)
