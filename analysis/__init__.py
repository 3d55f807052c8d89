"""U4SSC smart sustainable city KPI analysis: registry, observations, scoring, comparison, investment and reports."""

__version__ = "0.1.0"
