"""Which source a baseline value comes from when several give one: the declared table ``data/raw/source_precedence.csv``.

Per municipality and data point, each source type's most recent row is its statement (a later
``not_reported`` withdraws an earlier value of the same source). The baseline is the statement
with a value from the source of highest precedence (1 first). A *stand-in* source (simulated) is
used only where no other source has any row, so a simulated number never overrides or fills in
for what a real source said, ``not_reported`` included. Reorder the table (or pass another) to
change the rule; it is validated on load.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import paths

if TYPE_CHECKING:
    import pandera.pandas as pa

TABLE = paths.RAW / "source_precedence.csv"
COLUMNS = ("source_type", "precedence", "stand_in", "description")


def schema(source_types: tuple[str, ...]) -> "pa.DataFrameSchema":
    """The precedence table's pandera schema: every source type once, distinct whole precedences, stand_in yes/no."""
    import pandera.pandas as pa

    from analysis.validation import check, one_of, row_check, table_check, text

    return pa.DataFrameSchema({
        "source_type": one_of(source_types, what="a source type,"),
        "precedence": text(checks=[check(lambda s: s.str.fullmatch(r"\s*\d+\s*"), "expected a whole number (1 first)")]),
        "stand_in": one_of(("yes", "no")),
        "description": text(required=False),
    }, checks=[row_check(lambda d: ~pd.to_numeric(d["precedence"], errors="coerce").pipe(lambda n: n.notna() & n.duplicated()),
                         "duplicate precedence; each source type needs its own", "precedence"),
               table_check(lambda d: set(source_types) <= set(d["source_type"]),
                           "every source type needs a row", "source_type",
                           found=lambda d: f"no row for {sorted(set(source_types) - set(d['source_type']))}")],
        unique=["source_type"], report_duplicates="exclude_first")


def load(path: Path | None = None, source_types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The validated precedence table (:func:`schema`), sorted by precedence, ``stand_in`` as booleans."""
    from analysis import validation
    from analysis.observations import SOURCE_TYPES

    path = Path(path or TABLE)
    types = SOURCE_TYPES if source_types is None else source_types

    def read() -> pd.DataFrame:
        frame = validation.read_checked(path, schema(types))
        out = frame.assign(precedence=frame["precedence"].astype(int), stand_in=frame["stand_in"].eq("yes"))
        return out.sort_values("precedence", kind="mergesort").reset_index(drop=True)

    return validation.once(path, tuple(types), read)  # every latest-row choice of a profile reads it


def choose(observations: pd.DataFrame, table: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline row per municipality and data point, and the other sources' values that differ from it.

    Returns ``(chosen, others)``: ``chosen`` holds observation rows (index of ``observations``
    kept); ``others`` the scored statements of non-stand-in sources that were not chosen and whose
    value differs, with the chosen row's index in ``chosen_index``.
    """
    from analysis.observations import scored

    table = load() if table is None else table
    rank = dict(zip(table["source_type"], table["precedence"]))
    stand_in = set(table.loc[table["stand_in"], "source_type"])
    unknown = sorted(set(observations["source_type"].dropna()) - set(rank))
    if unknown:
        raise ValueError(f"source types {unknown} have no row in the precedence table {TABLE.name}")
    key = ["municipality", "data_point_id"]
    is_stand_in = observations["source_type"].isin(stand_in)
    real_here = (~is_stand_in).groupby([observations[k] for k in key], sort=False).transform("any")
    obs = observations[~(is_stand_in & real_here)]
    statements = obs.sort_values("year", kind="mergesort").groupby(key + ["source_type"], sort=False).tail(1)
    candidates = scored(statements)
    candidates = candidates.assign(_rank=candidates["source_type"].map(rank)).sort_values(
        ["_rank"], kind="mergesort")
    chosen = candidates.groupby(key, sort=False).head(1)
    rest = candidates.drop(index=chosen.index)
    rest = rest[~rest["source_type"].isin(stand_in)]
    if rest.empty:
        return chosen.drop(columns="_rank"), rest.drop(columns="_rank").assign(chosen_index=pd.Series(dtype="int64"))
    lookup = chosen.reset_index(names="chosen_index")[key + ["chosen_index", "value"]]
    lookup = lookup.rename(columns={"value": "value_chosen"})
    rest = rest.reset_index(names="_index").merge(lookup, on=key, how="left").set_index("_index")
    rest.index.name = None
    differs = (rest["value"] - rest["value_chosen"]).abs() > 1e-9 * rest["value_chosen"].abs().clip(lower=1.0)
    return chosen.drop(columns="_rank"), rest[differs].drop(columns=["_rank", "value_chosen"])


def describe(others: pd.DataFrame) -> pd.Series:
    """One text per chosen row listing the other sources' values: ``national_statistics 2019: 60.8 % (source)``."""
    if others.empty:
        return pd.Series(dtype=object)
    text = [f"{r.source_type} {int(r.year)}: {r.value:g} {r.unit} ({r.source})" for r in others.itertuples()]
    return pd.Series(text, index=others.index).groupby(others["chosen_index"]).agg(" | ".join)
