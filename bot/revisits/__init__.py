"""After-sales quality revisits: when one is owed, chasing the customer's owner, recording it."""
