"""The application: use cases, domain rules, neutral views, i18n, settings. Knows no messenger."""
