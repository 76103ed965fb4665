"""Satisfaction surveys (SPEC 4): planned with a questionnaire that is data, answers taken in,
results computed (CSI, the shares satisfied and unsatisfied, importance, the competitor), and
each customer's survey score fed to the annual score."""
