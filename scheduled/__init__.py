"""Scheduled jobs: derive what is due from the database, enqueue it, deliver the outbox."""
