"""The panel of municipalities: the 17 of the UNECE Norwegian project (reconstructed), with county attributes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import InputError
from analysis.files import read_csv
from analysis.observations import normalise_name

GROUPINGS = ("county", "in_first_round_of_12")
"""Panel columns that define groups of municipalities for the synthesis's group comparisons."""


def load(path: Path | None = None, attributes: Path | None = None) -> pd.DataFrame:
    """The default panel with its evidence columns and, where sourced, county and municipality number.

    The list is reconstructed from public sources (no single source names all 17), so it is
    configuration, not fact: see the ``participation_evidence`` column.
    """
    panel = read_csv(path or paths.MUNICIPALITIES, dtype=str)
    panel["municipality"] = panel["municipality"].map(normalise_name)
    attr_path = Path(attributes or paths.MUNICIPALITY_ATTRIBUTES)
    if attr_path.exists():
        attrs = read_csv(attr_path, dtype=str)
        attrs["municipality"] = attrs["municipality"].map(normalise_name)
        panel = panel.merge(attrs, on="municipality", how="left", validate="one_to_one")
    dup = panel["municipality"].duplicated()
    if dup.any():
        raise InputError.single(path or paths.MUNICIPALITIES,
                                f"municipality '{panel.loc[dup, 'municipality'].iloc[0]}' listed twice",
                                column="municipality")
    return panel


def peers(panel: pd.DataFrame, municipality: str, peer_group: dict, names: list[str] | None = None) -> list[str]:
    """The peer group of a municipality, itself included: all, the same county, or a given list.

    ``names`` are the municipalities of the run (default: the panel's). A municipality whose county
    is unknown (e.g. a city outside the panel) is compared with all.
    """
    names = sorted(names if names is not None else panel["municipality"])
    by = peer_group.get("by", "all")
    if by == "list":
        return sorted((set(peer_group.get("members", [])) & set(names)) | {municipality})
    if by == "county" and "county" in panel.columns:
        county = dict(zip(panel["municipality"], panel["county"]))
        own = county.get(municipality)
        if isinstance(own, str):
            return [m for m in names if county.get(m) == own]
    return names


def resolve(name: str, known: list[str] | pd.Series, file: str = "parameters",
            column: str = "municipality", label: str = "column") -> str:
    """The panel's spelling of ``name`` (case- and Unicode-form-insensitive), or a clear error."""
    wanted = normalise_name(name).casefold()
    for candidate in known:
        if normalise_name(candidate).casefold() == wanted:
            return normalise_name(candidate)
    raise InputError.single(file, f"unknown municipality '{name}'; expected one of {sorted(known)}",
                            column=column, label=label)
