"""Who is calling: the person behind a messenger identity, in which language, with which
roles; and the polite refusal for someone csatbot does not know."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.i18n import normalize_locale, pick
from bot.core.texts import T, Text, UserError
from bot.core.views import Card, Message, Option, Paragraph
from bot.people.customers import customer_options
from bot.people.directory import people_with_role
from bot.people.identities import address, address_of, canonical
from storage.models import Person, PersonIdentity, PersonRole, Role


def identify(session: Session, user_id: str, company_locale: str, messenger: str = "slack") -> Caller:
    """The person behind a messenger's user id, with their locale from the people table. When
    the table has none, the locale is left None for the caller to ask the messenger (outside
    the transaction), falling back to the company default."""
    user_id = canonical(messenger, user_id)
    rows = session.execute(  # one round trip: a dialog's field errors wait for it in the ack
        select(Person.id, Person.name, Person.locale, PersonRole.role_key, Role.name_zh, Role.name_en)
        .join(PersonIdentity, PersonIdentity.person_id == Person.id)
        .outerjoin(PersonRole, PersonRole.person_id == Person.id)
        .outerjoin(Role, Role.key == PersonRole.role_key)
        .where(PersonIdentity.messenger == messenger, PersonIdentity.user_id == user_id, Person.active.is_(True))
        .order_by(PersonRole.role_key)).all()
    if not rows:
        return Caller(user_id, None)
    person_id, name, stored, _key, _zh, _en = rows[0]
    locale = normalize_locale(stored, company_locale) if stored else None
    keys = [row.role_key for row in rows if row.role_key is not None]
    names = [pick(locale or company_locale, row.name_zh, row.name_en) for row in rows
             if row.role_key is not None and row.name_zh is not None]
    return Caller(user_id, locale, person_id, name, keys, names)


def refusal(session: Session, caller: Caller) -> Message:
    """A polite answer to someone csatbot does not know, naming who can add them."""
    _ = caller._
    admins = people_with_role(session, "quality_engineer")
    names = "、".join(p.name for p in admins[:5]) if caller.locale == "zh-CN" else ", ".join(p.name for p in admins[:5])
    if names:
        who = _("Please ask a quality engineer ({names}) to add you to the people list.").format(names=names)
    else:
        who = _("Please ask your IT administrator to add you with `csatbot people import`.")
    text = _("Sorry, csatbot does not know you yet, so it cannot act for you.")
    return Message(text=text, cards=[Card(title=_("You are not registered"), parts=[Paragraph(text), Paragraph(who)])])




def who_is_calling(ctx: AppContext, user_id: str, messenger: str = "slack") -> Caller:
    """The caller behind a messenger user id; the messenger is asked for a locale outside any
    transaction when the people table has none."""
    with ctx.session() as session:
        caller = identify(session, user_id, ctx.locale, messenger)
    if caller.locale is None:
        caller.locale = normalize_locale(ctx.messenger.user_locale(user_id), ctx.locale)
    return caller


def messenger_caller(ctx: AppContext, messenger: str, user_id: str) -> Caller:
    """The caller behind another messenger's user id (WeCom's), addressed through it: what a
    use case sends them goes back to that messenger."""
    with ctx.session() as session:
        caller = identify(session, user_id, ctx.locale, messenger)
    caller.user_id = address(messenger, canonical(messenger, user_id))
    caller.locale = caller.locale or ctx.locale
    return caller


ACK_LOCALE_SECONDS = 60.0
_ack_locales_guard = threading.Lock()


def stored_locale(ctx: AppContext, user_id: str, messenger: str = "slack") -> str:
    """The language to acknowledge a request in: the person's own, else the company's (the
    messenger is not asked). Read once a minute per person and process at most: an ack under
    load then waits for no database; a language changed meanwhile shows in the answer, which
    follows in the right one, and in the acks a minute later."""
    user_id = canonical(messenger, user_id)
    key, now = (messenger, user_id), time.monotonic()
    with _ack_locales_guard:
        known = ctx.ack_locales.get(key)
    if known is not None and known[1] > now:
        return known[0]
    with ctx.session() as session:
        locale = session.scalar(select(Person.locale).join(PersonIdentity).where(
            PersonIdentity.messenger == messenger, PersonIdentity.user_id == user_id, Person.active.is_(True)))
    found = normalize_locale(locale, ctx.locale) if locale else ctx.locale
    with _ack_locales_guard:
        if len(ctx.ack_locales) > 10_000:
            ctx.ack_locales.clear()
        ctx.ack_locales[key] = (found, now + ACK_LOCALE_SECONDS)
    return found


def search_customers(ctx: AppContext, caller: Caller, text: str) -> list[Option]:
    """The customer search of every dialog; someone csatbot does not know finds nothing."""
    if not caller.known:
        return []
    with ctx.session() as session:
        return customer_options(session, caller.locale or ctx.locale, text)


def choose_people(ctx: AppContext, caller: Caller) -> list[Option]:
    """Everyone a dialog's person field can name, where the messenger has no people picker
    of its own (a web page): by name, the department beside it, each by their address."""
    if not caller.known:
        return []
    with ctx.session() as session:
        people = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name, Person.id))
        options = []
        for person in people:
            where = address_of(person)
            if where is not None:
                options.append(Option(where, f"{person.name} · {person.department}" if person.department
                                      else person.name))
        return options


def require(ctx: AppContext, caller: Caller, permission: str | None = None, refused: Text | None = None) -> None:
    """The gate of every use case: someone csatbot does not know gets the refusal card, a
    person whose roles lack `permission` gets `refused`."""
    if not caller.known:
        with ctx.session() as session:
            message = refusal(session, caller)
        raise UserError(T("Sorry, csatbot does not know you yet, so it cannot act for you."), message)
    if permission is not None and not ctx.authorizer.allows(caller.roles, permission):
        raise UserError(refused or T("Your roles do not allow this."))
