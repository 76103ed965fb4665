"""Translations: gettext catalogs (Babel .po files) for zh-CN and en.

Catalogs are read from the .po sources and compiled in memory on first use, so there is
no compiled file to forget. English msgids are the source strings.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "csatbot"
LOCALES = ("zh-CN", "en")

Gettext = Callable[[str], str]


def normalize_locale(value: str | None, default: str = "zh-CN") -> str:
    """Map what a messenger or a person row says (zh_CN, zh-Hans, en-US, …) to a supported locale."""
    if not value:
        return default
    lowered = value.replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return default


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: str) -> Translations:
    locale = normalize_locale(locale)
    with open(catalog_path(locale), "rb") as handle:
        catalog = read_po(handle, locale=locale.replace("-", "_"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext_for(locale: str | None) -> Gettext:
    return translations(normalize_locale(locale)).gettext


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    """Mark a string for extraction; translate later with the reader's gettext."""
    return message


UNIT_NAMES = {"count": N_("count"), "minutes": N_("minutes"), "CNY": N_("CNY"), "score": N_("points"),
              "index": N_("index")}


def unit_name(_: Gettext, unit: str) -> str:
    """Units as a reader writes them (%, PPM stay as they are)."""
    name = UNIT_NAMES.get(unit)
    return _(name) if name else unit


def pick(locale: str, zh: str, en: str) -> str:
    """Choose between the Chinese and English names kept in data rows."""
    return zh if normalize_locale(locale) == "zh-CN" else (en or zh)
