"""Figures tests report about what they exercised, printed once in the summary at the end of
the run (under pytest-xdist, gathered from every worker)."""

REPORT: dict[str, str] = {}
