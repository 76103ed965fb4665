"""Keep the catalogs in step with the source: `python -m bot.core.locale_tool`.

Extracts every marked string from bot/, handlers/ and scheduled/, adds new ones to both
catalogs (English filled with the msgid, Chinese left empty for a translator) and drops
obsolete ones. The test suite fails while a Chinese translation is missing.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import LOCALES, catalog_path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "handlers", "scheduled")
KEYWORDS = {"_": None, "gettext": None, "N_": None, "T": None}


def extract() -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for folder in SOURCE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append((f"{folder}/{filename}", lineno))
    return found


def sync() -> dict[str, int]:
    found = extract()
    added = {}
    for locale in LOCALES:
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        old = read_po(path.open("rb")) if path.exists() else Catalog(locale=locale.replace("-", "_"))
        new = Catalog(locale=locale.replace("-", "_"), project="csatbot", fuzzy=False,
                      creation_date=old.creation_date, revision_date=old.revision_date)
        count = 0
        for msgid, locations in sorted(found.items()):
            previous = old.get(msgid)
            text = previous.string if previous is not None and previous.string else ""
            if not text and locale == "en":
                text = msgid
            if previous is None:
                count += 1
            new.add(msgid, string=text, locations=locations)
        with path.open("wb") as handle:
            write_po(handle, new, width=100, sort_output=True, omit_header=False)
        added[locale] = count
    return added


if __name__ == "__main__":
    print(sync())
