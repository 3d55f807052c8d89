"""National statistics connectors: fetch what Statistics Norway and other public registers publish, per municipality.

``python -m analysis fetch ssb`` plans requests from ``data/raw/national_statistics_map.csv``
(:mod:`.mapping`), sends them through a cached, retrying, rate-limited HTTP session (:mod:`.http`),
parses the JSON-stat 2.0 answers (:mod:`.jsonstat`), checks them against the request
(:mod:`.ssb`) and writes an immutable, dated snapshot under ``data/external/<provider>/``
(:mod:`.snapshot`). ``python -m analysis build`` folds the snapshots into the observations as
source type ``national_statistics`` (:mod:`.fold`). A provider is anything that fits
:class:`.providers.Provider`.
"""
