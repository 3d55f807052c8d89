"""Human column labels with units (English and Norwegian Bokmål) and the key columns each profile table shows.

The catalogue ``analysis/locale/labels.csv`` (column, en, nb, decimals) ships with the package: it is
presentation, not data. ``KEY_COLUMNS`` names the columns a page shows per table kind, names
before codes, about ten at most; ``DETAIL_COLUMNS`` those behind a details toggle; the rest stay in
the downloads.
"""

from __future__ import annotations

import csv
import functools

from analysis import i18n

KEY_COLUMNS: dict[str, list[str]] = {
    "dimensions": ["dimension", "u4ssc_score", "u4ssc_band", "mean_achievement", "coverage", "n_scored",
                   "n_simulated", "peer_median", "peer_min", "peer_max"],
    "categories": ["dimension", "sub_dimension", "category", "u4ssc_score", "u4ssc_band", "mean_achievement",
                   "coverage", "n_scored", "n_simulated"],
    "baseline": ["data_point_name", "data_point_id", "value", "registry_unit", "year", "achievement", "band",
                 "peer_median_value", "peer_rank", "arrow"],
    "data_points": ["data_point_name", "data_point_id", "value", "registry_unit", "target", "achievement", "band",
                    "source_type"],
    "overall": ["index", "rank", "peer_rank", "n_dimensions", "share_simulated"],
    "sdg_goals": ["sdg_goal", "colour", "mean_achievement", "n_scored", "n_linked", "n_simulated", "worst_targets",
                  "worst_data_points"],
    "trends": ["data_point_id", "first_year", "last_year", "first_value", "last_value", "target", "arrow", "trend",
               "projected_year"],
    "data_gaps": ["priority", "data_point_name", "data_point_id", "core_or_advanced", "n_sdg_targets",
                  "sdg_targets", "dimension", "category", "unit"],
    "opportunities": ["ws_rank", "theme_name", "citizens_rank", "disagreement", "cost_class", "evidence",
                      "stability", "explanation"],
    "what_if": ["dimension", "u4ssc_score_before", "u4ssc_score_after", "u4ssc_score_change",
                "mean_achievement_before", "mean_achievement_after", "mean_achievement_change",
                "n_data_points_closed"],
    "recommendations": ["number", "kind", "recommendation", "owner", "horizon", "cost_class", "rests_on"],
    "budget": ["sdg_goal", "spending_share", "gap", "alignment", "spending_nok", "functions", "n_scored",
               "n_simulated", "source_type"],
    "national_targets": ["data_point_name", "value", "registry_unit", "target", "target_unit", "year", "status", "instrument",
                         "source_checked", "source_type"],
    "own_targets": ["data_point_name", "goal", "value", "desired", "lowest_acceptable", "not_acceptable",
                    "level_reached", "own_band", "default_band", "source_type"],
    "unmeasured_goals": ["goal", "year", "source"],
    "category_plans": ["dimension", "category", "u4ssc_band", "plan", "sets_direction", "municipal_authority",
                       "authority_note"],
    "action_measures": ["measure", "recommendation_number", "action", "lever", "national_plans", "owner", "horizon",
                        "cost_class", "rests_on"],
    "action_projects": ["project", "recommendation_number", "theme_name", "owner", "horizon", "cost_class",
                        "financing", "data_points", "rests_on"],
    "vlr_goals": ["sdg_goal", "goal_name", "colour", "n_with_value", "n_simulated", "actions", "progress"],
}


DETAIL_COLUMNS: dict[str, list[str]] = {
    "baseline": ["data_point_name_nb", "source_type", "quality_level", "verified", "national_value",
                 "national_year", "sdg_targets", "target", "target_origin", "worst_rule", "status", "source"],
}
"""The columns a table kind shows behind its details toggle, in a second table beside the row's name."""


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """The labels catalogue as {column: {en, nb, decimals}}; a row without a label in a language is an error."""
    path = i18n.LOCALE / "labels.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, start=2):
        missing = [lang for lang in i18n.LANGUAGES if not (row.get(lang) or "").strip()]
        if missing:
            raise ValueError(f"{path}: row {number} ({row['column']}): no label for {', '.join(missing)}")
    return {row["column"]: row for row in rows}


def label(column: str, lang: str = "en") -> str:
    """The human label of a column in ``lang``; a column not in the catalogue keeps its name."""
    entry = catalogue().get(column)
    return entry[i18n.check_lang(lang)] if entry else column


def decimals(column: str, default: int = 2) -> int:
    """How many decimals a column's numbers are shown with."""
    text = (catalogue().get(column) or {}).get("decimals") or ""
    return int(text) if text.strip() else default


def detail_columns(kind: str, columns: list[str]) -> list[str]:
    """The detail columns of a table kind that the frame has, in the kind's order (none for most kinds)."""
    return [c for c in DETAIL_COLUMNS.get(kind, []) if c in columns]


def key_columns(kind: str, columns: list[str]) -> list[str]:
    """The key columns of a table kind that the frame has, in the kind's order."""
    if kind not in KEY_COLUMNS:
        raise ValueError(f"unknown table kind '{kind}'; expected one of {', '.join(KEY_COLUMNS)}")
    return [c for c in KEY_COLUMNS[kind] if c in columns]
