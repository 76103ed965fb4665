"""A survey's results as a card: the CSI and response rate, each dimension's score with its
shares and the gap to the competitor, and the customers with the lowest CSI."""

from __future__ import annotations

from typing import Any

from bot.core.charts import importance_performance_chart
from bot.core.i18n import N_, gettext_for
from bot.core.texts import short_label
from bot.core.views import Card, Context, Field, FieldList, Message, Paragraph, Table
from bot.surveys.campaigns import DIMENSION_NAMES, KIND_NAMES

LOWEST_SHOWN = 5
COMMENTS_SHOWN = 8
QUADRANT_NAMES = {"concentrate_here": N_("concentrate here"), "keep_up_the_good_work": N_("keep up the good work"),
                  "low_priority": N_("low priority"), "possible_overkill": N_("possible overkill")}


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def results_message(results: dict[str, Any], opens: str, closes: str, locale: str) -> Message:
    _ = gettext_for(locale)
    kind = _(KIND_NAMES.get(results["kind"], results["kind"]))
    title = _("Survey {id} · {kind} · {opens} – {closes}").format(id=results["survey"], kind=kind, opens=opens,
                                                                   closes=closes)
    if results.get("customer"):
        title += f" · {results['customer']}"
    parts: list = [FieldList([
        Field(_("CSI"), _number(results["csi"])),
        Field(_("Response rate"), _share(results["response_rate"])),
        Field(_("Status"), _("closed") if results["status"] == "closed" else _("open")),
        Field(_("Customers who answered"), str(len(results["customers"]))) if "departments" not in results else
        Field(_("Answered"), str(sum(d["answered"] for d in results["departments"]))),
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
    placed: dict[str, list[str]] = {}
    for d in results["dimensions"]:
        if d.get("quadrant"):
            placed.setdefault(d["quadrant"], []).append(_(DIMENSION_NAMES.get(d["key"], d["key"])))
    if placed:
        parts.append(FieldList([Field(_(QUADRANT_NAMES[q]), ", ".join(placed[q])) for q in QUADRANT_NAMES
                                if q in placed]))
    trend = [p for p in results.get("trend", []) if p["csi"] is not None]
    if trend:
        earlier = " → ".join(f"#{p['survey']} {p['opens'][:7]} {p['csi']:.1f}" for p in trend)
        parts.append(Paragraph(_("Earlier surveys of this kind (CSI): {earlier} → this one {csi}").format(
            earlier=earlier, csi=_number(results["csi"]))))
    comments = results.get("comments", [])
    if comments:
        lines = [f"*{_(DIMENSION_NAMES.get(c['dimension'], N_('general')))}* · {c['customer']}: "
                 f"{short_label(c['text'], 160)}" for c in comments[:COMMENTS_SHOWN]]
        if len(comments) > COMMENTS_SHOWN:
            lines.append(_("… +{n} more in `csatbot survey export {id}`").format(n=len(comments) - COMMENTS_SHOWN,
                                                                               id=results["survey"]))
        parts.append(Paragraph(_("What they wrote:") + "\n" + "\n".join(lines)))
    rated = [c for c in results.get("customers", []) if c["csi"] is not None]
    lowest = sorted(rated, key=lambda c: c["csi"])[:LOWEST_SHOWN]
    if lowest:
        parts.append(Paragraph(_("Lowest CSI: {customers}").format(
            customers=", ".join(f"{c['code']} {c['csi']:.1f}" for c in lowest))))
    if "departments" in results:
        parts.append(Paragraph(_("By department (asked of headcount · answered · CSI):") + "\n" + "\n".join(
            f"*{d['name']}* · {d['invited']}/{d['headcount']} · {d['answered']} · "
            + (_number(d["csi"]) if d["csi"] is not None else _("fewer than {n} answers: not shown").format(
                n=results["min_group"])) for d in results["departments"])))
    parts.append(Context(_("A rating r of 1–5 scores (r − 1) / 4 × 100; the CSI weighs the dimensions by their "
                           "importance. `csatbot survey results {id} --json` has every number.").format(
        id=results["survey"])))
    text = _("Survey {id}: CSI {csi}").format(id=results["survey"], csi=_number(results["csi"]))
    return Message(text=text, cards=[Card(title=title, parts=parts)])


def results_chart(results: dict[str, Any], locale: str) -> tuple[bytes, str] | None:
    """The importance–performance chart, when importance was rated."""
    _ = gettext_for(locale)
    placed = [d for d in results["dimensions"] if d.get("quadrant")]
    if len(placed) < 2:
        return None
    title = _("Survey {id}: importance and performance").format(id=results["survey"])
    png = importance_performance_chart(
        title, tuple(_(DIMENSION_NAMES.get(d["key"], d["key"])) for d in placed),
        tuple(float(d["importance"]) for d in placed), tuple(float(d["score"]) for d in placed),
        tuple(_(QUADRANT_NAMES[q]) for q in QUADRANT_NAMES), _("Importance (1–5)"), _("Score (0–100)"))
    return png, title
