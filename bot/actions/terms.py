"""The words of corrective actions, in both languages (marked for translation)."""

from __future__ import annotations

from bot.core.i18n import N_

STATE_NAMES = {"open": N_("open, not assigned"), "assigned": N_("assigned: to be analysed"),
               "analysed": N_("analysed: waiting for approval"), "approved": N_("approved: to be carried out"),
               "implemented": N_("implemented: to be verified"), "verified": N_("verified effective"),
               "closed": N_("closed"), "rejected": N_("sent back: to be analysed again")}
STEP_NAMES = {"assign": N_("Assign"), "analyse": N_("Analyse"), "approve": N_("Approve"), "reject": N_("Send back"),
              "implement": N_("Implemented"), "verify": N_("Verify effectiveness"), "close": N_("Close"),
              "retriggered": N_("Triggered again"), "open": N_("Opened"), "confirm": N_("Customer's answer")}
AREA_NAMES = {"delivery": N_("delivery"), "material": N_("material"), "service": N_("service quality"),
              "product_technical": N_("product and technical"), "technical_process": N_("technical and process"),
              "product_quality": N_("product quality"), "cost": N_("cost")}
METHOD_NAMES = {"five_why": N_("5 whys"), "fishbone": N_("fishbone diagram"), "spc": N_("SPC"),
                "returned_parts": N_("test of returned parts")}
