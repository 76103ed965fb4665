"""Who is who: people and their messenger identities, customers and their look-up, who is
calling, deputies."""
