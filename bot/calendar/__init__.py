"""The working calendar: Chinese holidays and make-up working days, company overrides,
years nobody has loaded yet."""
