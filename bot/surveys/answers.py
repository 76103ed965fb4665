"""A survey's results as a card: the CSI and response rate, each dimension's score with its
shares and the gap to the competitor, and the customers with the lowest CSI."""

from __future__ import annotations

from typing import Any

from bot.core.i18n import gettext_for
from bot.core.views import Card, Context, Field, FieldList, Message, Paragraph, Table
from bot.surveys.campaigns import DIMENSION_NAMES, KIND_NAMES

LOWEST_SHOWN = 5


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def results_message(results: dict[str, Any], opens: str, closes: str, locale: str) -> Message:
    _ = gettext_for(locale)
    kind = _(KIND_NAMES.get(results["kind"], results["kind"]))
    title = _("Survey {id} · {kind} · {opens} – {closes}").format(id=results["survey"], kind=kind, opens=opens,
                                                                   closes=closes)
    parts: list = [FieldList([
        Field(_("CSI"), _number(results["csi"])),
        Field(_("Response rate"), _share(results["response_rate"])),
        Field(_("Status"), _("closed") if results["status"] == "closed" else _("open")),
        Field(_("Customers who answered"), str(len(results["customers"]))),
    ])]
    rows = [[_(DIMENSION_NAMES.get(d["key"], d["key"])), _number(d["score"]),
             f"{_share(d['satisfied'])} / {_share(d['somewhat'])} / {_share(d['unsatisfied'])}",
             "—" if d["gap_to_competitor"] is None else f"{d['gap_to_competitor']:+.1f}"]
            for d in results["dimensions"]]
    if rows:
        parts.append(Table([_("Dimension"), _("Score"), _("Satisfied / somewhat / unsatisfied"),
                            _("Against the competitor")], rows))
    else:
        parts.append(Paragraph(_("No answers yet.")))
    lowest = sorted((c for c in results["customers"] if c["csi"] is not None), key=lambda c: c["csi"])[:LOWEST_SHOWN]
    if lowest:
        parts.append(Paragraph(_("Lowest CSI: {customers}").format(
            customers=", ".join(f"{c['code']} {c['csi']:.1f}" for c in lowest))))
    parts.append(Context(_("A rating r of 1–5 scores (r − 1) / 4 × 100; the CSI weighs the dimensions by their "
                           "importance. `csatbot survey results {id} --json` has every number.").format(
        id=results["survey"])))
    text = _("Survey {id}: CSI {csi}").format(id=results["survey"], csi=_number(results["csi"]))
    return Message(text=text, cards=[Card(title=title, parts=parts)])
