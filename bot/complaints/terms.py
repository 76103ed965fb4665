"""The complaint vocabulary: the keys the ledger stores and their names (msgids, translated
where shown)."""

from __future__ import annotations

from bot.core.i18n import N_

SEVERITIES = {"general": N_("general"), "serious": N_("serious"), "urgent": N_("urgent")}


RECEIVED_VIA = {"phone": N_("phone"), "email": N_("e-mail"), "visit": N_("visit"), "portal": N_("customer portal"),
                "other": N_("other")}


FOUND_WHERE = {"incoming": N_("incoming inspection at the customer"), "line": N_("on the customer's line"),
               "field": N_("in the field, after sale"), "other": N_("elsewhere")}


RESPONSIBILITY = {"ours": N_("ours"), "customer": N_("customer's"), "supplier": N_("supplier's")}


STATUS_NAMES = {
    "new": N_("new"), "acknowledged": N_("acknowledged"), "investigating": N_("investigating"),
    "eight_d": N_("8D in progress"), "waiting_customer": N_("waiting for the customer"), "closed": N_("closed"),
    "reopened": N_("reopened"),
}


MILESTONE_NAMES = {
    "register": N_("Registered in the ledger"), "first_response": N_("First response to the customer"),
    "investigation": N_("Investigation and measures"), "eight_d": N_("8D report to the customer"),
    "close": N_("Closed and replied"),
}


EIGHT_D = [("d3_containment", N_("D3 Containment (first)")), ("d1_team", N_("D1 Team")),
           ("d2_problem", N_("D2 Problem description")), ("d4_root_cause", N_("D4 Root cause")),
           ("d5_corrective_actions", N_("D5 Corrective actions")), ("d6_implementation", N_("D6 Implementation")),
           ("d7_prevention", N_("D7 Prevent recurrence")), ("d8_closure", N_("D8 Closure and recognition"))]


CAUSES = {"design": N_("design"), "process": N_("manufacturing process"), "material": N_("purchased material"),
          "transport": N_("transport and packaging"), "handling": N_("customer handling"), "other": N_("other")}
