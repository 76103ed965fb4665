"""Reports and the procedure's Excel forms: new compositions of the score book, the
complaint ledger and the figures, never a second computation of them."""
