"""What every capability shares: clock, context, ports, neutral views, i18n, settings,
roles, the outbox, periods, charts and spreadsheets. Imports nothing from the capabilities."""
