"""Customer complaints: intake and numbering, the workflow behind the card's buttons, the
card, deadlines (SLA) and their scan, statistics and the ledger import."""
