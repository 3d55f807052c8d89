"""Presentation for notebooks and reports: escaped HTML tables marking simulated values, banners, figures, downloads."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from analysis import palette, scoring, sdg, simulate
from analysis.files import FIXED_TIME, atomic_folder, atomic_path, fix_zip_times, needs_neutralising, write_csv, write_text

SIM_CLASS = "u4ssc-sim"
TABLE_CLASS = "u4ssc-table"
BANNER_CLASS = "u4ssc-banner"
SIM_HATCH = "///"
GP_SIM_CLASS = "u4ssc-gp-sim"
GP_SIM_MARK = "†"
GP_SIM_TITLE = "real value; target or worst derived from simulated peer values"
# Titles are placed with an explicit y=1.0 (the position matplotlib's automatic placement chooses for
# these axes, which have no top tick labels): the automatic placement measures every tick label again
# at each draw, about a third of a figure's rendering time.

sns.set_theme(style="whitegrid", context="notebook")


def number(x: object, decimals: int = 2) -> str:
    """A number with a space as thousands separator from 10 000 on, as in the U4SSC reports ('95 424'); '–' when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return str(x)
    if isinstance(x, (int, np.integer, float, np.floating)):
        value = float(x)
        grouping = "," if abs(value) >= 10_000 else ""  # four-digit numbers (years) stay unsplit
        if value.is_integer():
            return f"{int(value):{grouping}d}".replace(",", " ")
        if abs(value) < 10 ** -decimals:
            return f"{value:.2g}"  # small values such as 0.001 % keep their significant digits
        text = f"{value:{grouping}.{decimals}f}".replace(",", " ")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(x)


def rests_on_simulated(frame: pd.DataFrame) -> pd.Series:
    """Rows that show a simulated value, or a group result resting mostly on simulated values.

    Recognised columns: ``source_type`` (one value), ``n_simulated`` with ``n_scored`` (a group of
    values), ``share_simulated`` (a share) and ``rests_on_simulated_year`` (a trend drawn through a
    simulated year). A real value scored against goalposts derived from simulated peers is *not*
    simulated: :func:`goalposts_simulated` marks it separately.
    """
    marked = pd.Series(False, index=frame.index)
    if "source_type" in frame.columns:
        marked |= frame["source_type"].eq("simulated")
    if "rests_on_simulated_year" in frame.columns:
        marked |= frame["rests_on_simulated_year"].astype("boolean").fillna(False).astype(bool)
    if {"n_simulated", "n_scored"} <= set(frame.columns):
        marked |= frame["n_simulated"] * 2 > frame["n_scored"]
    if "share_simulated" in frame.columns:
        marked |= frame["share_simulated"].fillna(0) > 0.5
    return marked


def goalposts_simulated(frame: pd.DataFrame) -> pd.Series:
    """Rows whose own value is not simulated but whose target or worst was derived from simulated peer values."""
    if "goalposts_from_simulated" not in frame.columns:
        return pd.Series(False, index=frame.index)
    flag = frame["goalposts_from_simulated"].astype("boolean").fillna(False).astype(bool)
    return flag & ~rests_on_simulated(frame)


def table_html(frame: pd.DataFrame, caption: str | None = None, decimals: int = 2,
               labels: Mapping[str, str] | None = None, max_rows: int | None = None) -> str:
    """An HTML table (every cell escaped): simulated rows carry the simulated class; real values scored
    against goalposts from simulated peers carry a separate, smaller mark (class and a dagger)."""
    labels = labels or {}
    shown = frame.head(max_rows) if max_rows else frame
    simulated = rests_on_simulated(shown)
    gp_simulated = goalposts_simulated(shown)
    columns = list(shown.columns)
    mark_at = next((columns.index(c) for c in ("achievement", "target", "value") if c in columns), 0)
    parts = [f'<table class="{TABLE_CLASS}">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(labels.get(c, str(c)))}</th>" for c in shown.columns)
                 + "</tr></thead><tbody>")
    for i, row in shown.iterrows():
        cells = [html.escape(number(v, decimals)) for v in row.to_numpy()]
        if simulated[i]:
            cls = f' class="{SIM_CLASS}" title="simulated value"'
        elif gp_simulated[i]:
            cls = f' class="{GP_SIM_CLASS}" title="{GP_SIM_TITLE}"'
            cells[mark_at] += f'<sup class="{GP_SIM_CLASS}">{GP_SIM_MARK}</sup>'
        else:
            cls = ""
        parts.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    parts.append("</tbody></table>")
    if simulated.any():
        parts.append(f'<p class="u4ssc-legend"><span class="{SIM_CLASS}">italic, hatched rows</span> show '
                     f"<strong>simulated</strong> values or results resting mostly on them, not published data.</p>")
    if gp_simulated.any():
        parts.append(f'<p class="u4ssc-legend"><sup class="{GP_SIM_CLASS}">{GP_SIM_MARK}</sup> the value is '
                     f"real (published or city-supplied), but its target or worst was derived from simulated "
                     f"peer values, so its score is a demonstration.</p>")
    if max_rows and len(frame) > max_rows:
        parts.append(f"<p>… {len(frame) - max_rows} more rows in the downloadable table.</p>")
    return "\n".join(parts)


def banner(n_published: int, n_city_supplied: int, n_simulated: int, subject: str,
           n_national_statistics: int = 0) -> str:
    """A banner stating the data mix; loud when simulated values outnumber real ones."""
    real = n_published + n_city_supplied + n_national_statistics
    total = real + n_simulated
    text = (f"{html.escape(subject)}: {real} of the {total} values used (all years) are published or "
            f"city-supplied ({n_published} published, {n_city_supplied} city-supplied); {n_simulated} are simulated.")
    if n_national_statistics:
        text = (f"{html.escape(subject)}: {real} of the {total} values used (all years) are published, "
                f"city-supplied or national statistics ({n_published} published, {n_city_supplied} city-supplied, "
                f"{n_national_statistics} national statistics); {n_simulated} are simulated.")
    if simulate.is_mostly_simulated(real, n_simulated):
        return (f'<div class="{BANNER_CLASS} u4ssc-simulated"><strong>Mostly simulated data.</strong> {text} '
                "Simulated values are generated by analysis.simulate to demonstrate the method; they are "
                "not measurements and must not be quoted as results.</div>")
    if n_simulated:
        return f'<div class="{BANNER_CLASS} u4ssc-mixed"><strong>Partly simulated data.</strong> {text}</div>'
    return f'<div class="{BANNER_CLASS} u4ssc-real">{text}</div>'


def _excel_value(value: object) -> object:
    """A cell value as ``DataFrame.to_excel`` writes it: missing → empty, ±inf → 'inf'/'-inf', NumPy → Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def _excel_cell(ws, value: object, font=None):
    """A write-only cell; text that would start a formula is stored as a plain string (data type 's')."""
    from openpyxl.cell import WriteOnlyCell

    value = _excel_value(value)
    if font is None and not needs_neutralising(value):
        return value
    cell = WriteOnlyCell(ws, value=value)
    if needs_neutralising(value):
        cell.data_type = "s"  # openpyxl would make '=…' a formula ('f'); Excel shows a stored string as text
    if font is not None:
        cell.font = font
    return cell


def write_workbook(tables: Mapping[str, pd.DataFrame], target: Path) -> Path:
    """All tables as sheets of one Excel workbook (header row in bold, no index), written atomically.

    openpyxl's write-only mode streams the rows to the file: the same cell values as
    ``DataFrame.to_excel`` at a fraction of its time (no per-cell formatting objects). Text
    starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is stored as a string, never
    as a formula. The workbook's timestamps and the zip entries' dates are fixed
    (``files.FIXED_TIME``), so the same tables give a byte-identical file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    with atomic_path(target) as tmp:
        wb = Workbook(write_only=True)
        wb.properties.created = wb.properties.modified = FIXED_TIME
        bold = Font(bold=True)
        for name, frame in tables.items():
            ws = wb.create_sheet(title=name[:31])
            ws.append([_excel_cell(ws, column, bold) for column in frame.columns])
            columns = [frame.iloc[:, j].astype(object).tolist() for j in range(frame.shape[1])]
            for row in zip(*columns):
                ws.append([_excel_cell(ws, v) for v in row])
        wb.save(tmp)
        fix_zip_times(tmp)
    return Path(target)


def export_tables(tables: Mapping[str, pd.DataFrame], folder: Path, workbook: str = "tables.xlsx",
                  texts: Mapping[str, str] | None = None) -> list[Path]:
    """Write every table as CSV and all of them as sheets of one Excel workbook, as one folder.

    ``texts`` are further files (name → text, such as a Word-friendly HTML document) written in the
    same folder. The folder is written whole or not at all (``files.atomic_folder``): a full disk or
    a killed build leaves the previous folder, never a few of its files.
    """
    folder = Path(folder)
    texts = texts or {}
    with atomic_folder(folder) as tmp:
        for name, frame in tables.items():
            write_csv(frame, tmp / f"{name}.csv")
        write_workbook(tables, tmp / workbook)
        for name, text in texts.items():
            write_text(tmp / name, text)
    return [folder / f"{name}.csv" for name in tables] + [folder / workbook] + [folder / name for name in texts]


def plot_dimension_scores(comparison: pd.DataFrame, municipality: str) -> plt.Figure:
    """Bars of the municipality's dimension scores with the peer range and median; hatched when mostly simulated.

    Drawn 5.5 inches wide with 11-point text and the legend below, so that labels stay readable
    when the page is 390 px wide.
    """
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    y = np.arange(len(comparison))
    sim = comparison["n_simulated"] > comparison["n_scored"] / 2
    bars = ax.barh(y, comparison["mean_achievement"], color=palette.BAND_HEX[scoring.BAND_LABELS[3]], alpha=0.85,
                   label=municipality)
    for bar, is_sim in zip(bars, sim):
        if is_sim:
            bar.set_hatch(SIM_HATCH)
    for i, (score, band) in enumerate(zip(comparison["mean_achievement"], comparison["u4ssc_band"])):
        if pd.isna(score):
            ax.text(1, i, band, va="center", fontsize="x-small", color="dimgrey")
    ax.hlines(y, comparison["peer_min"], comparison["peer_max"], color="black", linewidth=1.2, label="peer range")
    ax.plot(comparison["peer_median"], y, "k|", markersize=16, markeredgewidth=2, label="peer median")
    ax.set_yticks(y, comparison["dimension"].str.replace(" and ", "\nand ", regex=False), fontsize=11)
    ax.set_xlim(0, 100)
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlabel("mean achievement of target (%)", fontsize=11)
    ax.set_title(y=1.0, label=f"{municipality}: dimension scores", fontsize=12)
    handles, names = ax.get_legend_handles_labels()
    if sim.any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=SIM_HATCH))
        names.append("mostly simulated")
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=10, frameon=False)
    fig.tight_layout()
    return fig


def _bands(groups: pd.DataFrame) -> pd.Series:
    """The groups' bands: ``u4ssc_band`` as scoring.aggregate set it (with 'insufficient data'), else from the score."""
    if "u4ssc_band" in groups.columns:
        return groups["u4ssc_band"]
    return pd.Series(scoring.band(groups["u4ssc_score"]), index=groups.index)


def _category_labels(own: pd.DataFrame) -> pd.Series:
    """Category names, with the sub-dimension beside a name that occurs in several (Water and Sanitation)."""
    repeated = own["category"].duplicated(keep=False)
    return own["category"].where(~repeated, own["category"] + " (" + own["sub_dimension"] + ")")


def plot_category_achievement(categories: pd.DataFrame, municipality: str) -> plt.Figure:
    """U4SSC category scores (Σ points / 4n) coloured by band (colour-blind safe), hatched when mostly simulated.

    The band edges are drawn and labelled, a legend names the bands, and each dimension's categories
    stand under its name. Names are written over the bars, so the bars keep the figure's width and
    11-point text stays readable when the page is 390 px wide.
    """
    own = categories[categories["municipality"] == municipality].reset_index(drop=True)
    own = own.assign(label=_category_labels(own), band=_bands(own))
    new_dimension = own["dimension"].ne(own["dimension"].shift())
    y = np.arange(len(own)) + new_dimension.cumsum().to_numpy()  # one row for each dimension's name
    fig, ax = plt.subplots(figsize=(5.5, 0.3 * (len(own) + new_dimension.sum()) + 1.9))
    bars = ax.barh(y, own["u4ssc_score"].fillna(0), height=0.8, color=[palette.band_colour(b) for b in own["band"]],
                   edgecolor="black", linewidth=0.4)
    for bar, n_sim, n in zip(bars, own["n_simulated"], own["n_scored"]):
        if n and n_sim > n / 2:
            bar.set_hatch(SIM_HATCH)
    for row, r in zip(y, own.itertuples()):
        score = (f"{r.u4ssc_score:.0f} %" if pd.notna(r.u4ssc_score)
                 else f"{r.band} ({r.n_scored} scored)" if r.n_scored else r.band)
        ax.text(1, row, f"{r.label}: {score}", ha="left", va="center", fontsize=10,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.8})
    for row, name in zip(y[new_dimension.to_numpy()] - 1, own.loc[new_dimension, "dimension"]):
        ax.text(0, row, name, ha="left", va="center", fontsize=11, weight="bold")
    ax.set_yticks([])
    ax.set_ylim(y.max() + 0.6, -1.6)
    ax.set_xlim(0, 100)
    for edge in scoring.BAND_EDGES:
        ax.axvline(edge, color="black", linewidth=0.8, linestyle="--")
        ax.text(edge, -1.2, f"{edge:.0f} %", ha="center", va="center", fontsize=10,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlabel("U4SSC category score: Σ points / (4 × scored) (%)", fontsize=11)
    ax.set_title(y=1.0, label=f"{municipality}: category scores and U4SSC bands", fontsize=12)
    handles = [Patch(facecolor=palette.band_colour(b), edgecolor="black", linewidth=0.4) for b in scoring.BAND_LABELS]
    names = list(scoring.BAND_LABELS)
    if (own["n_scored"].gt(0) & (own["n_simulated"] * 2 > own["n_scored"])).any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=SIM_HATCH))
        names.append("mostly simulated")
    ax.legend(handles, names, title="U4SSC band", loc="upper center", ncol=3, fontsize=10, title_fontsize=10,
              frameon=False, bbox_to_anchor=(0.5, -0.75 / max(fig.get_figheight() - 1.9, 1.0)))
    fig.tight_layout()
    return fig


def plot_sdg_dashboard(goals: pd.DataFrame, municipality: str) -> plt.Figure:
    """One tile per SDG goal (all 17), coloured from its targets; hatched when mostly simulated, † when real
    values are scored against goalposts from simulated peers; grey where no data point links or none is scored."""
    own = goals[goals["municipality"] == municipality].sort_values("sdg_goal")
    fig, ax = plt.subplots(figsize=(9, 1.9))
    mostly_simulated = own["n_simulated"] * 2 > own["n_scored"]
    for i, row in enumerate(own.itertuples()):
        tile = plt.Rectangle((i, 0), 0.92, 1, facecolor=sdg.COLOUR_HEX[row.colour], edgecolor="white")
        if row.n_scored and mostly_simulated.iloc[i]:
            tile.set_hatch(SIM_HATCH)
        ax.add_patch(tile)
        ax.text(i + 0.46, 0.66, f"SDG {row.sdg_goal}", ha="center", va="center", fontsize=7, weight="bold")
        label = f"{row.n_scored}/{row.n_linked}" if row.n_linked else "no link"
        mark = GP_SIM_MARK if getattr(row, "n_goalposts_simulated", 0) else ""
        ax.text(i + 0.46, 0.3, label + mark, ha="center", va="center", fontsize=6.5)
    ax.set_xlim(0, max(len(own), 1))
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title(y=1.0, label=f"{municipality}: SDG dashboard (tile: goal, coloured from its SDG targets; "
                              "numbers: data points scored / linked)", fontsize="small")
    handles = [Patch(color=sdg.COLOUR_HEX[c]) for c in (*sdg.COLOURS, "grey")]
    names = ["red < 33 %", "orange 33–66 %", "yellow 66–95 %", "green ≥ 95 %", "no data or no link"]
    if (mostly_simulated & own["n_scored"].gt(0)).any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=SIM_HATCH))
        names.append("mostly simulated")
    if "n_goalposts_simulated" in own and own["n_goalposts_simulated"].gt(0).any():
        handles.append(Patch(facecolor="white", edgecolor="white"))
        names.append(f"{GP_SIM_MARK} real values, goalposts from simulated peers")
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize="x-small", frameon=False)
    fig.tight_layout()
    return fig


def _empty(column: pd.Series) -> bool:
    """A column with nothing to show (all missing or blank)."""
    return bool(column.isna().all() or column.astype(str).str.strip().isin(["", "<NA>", "nan", "None"]).all())


def _cell(value: object, decimals: int, lang: str) -> tuple[str, bool]:
    """A cell's text in ``lang`` and whether it is a number (right-aligned)."""
    from analysis import i18n

    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not numeric or lang == "en" or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return number(value, decimals), numeric
    return i18n.number(float(value), lang, decimals), True


def key_table(frame: pd.DataFrame, kind: str, lang: str = "en", caption: str | None = None,
              max_rows: int | None = None, legend: bool = False) -> str:
    """A profile table's key columns (analysis.labels) with human labels, units and per-column rounding.

    Rows resting on simulated values (and real values scored against goalposts from simulated peers,
    with a dagger) are marked from the whole frame, before columns are dropped;
    key columns with nothing in them are left out; the other columns are named behind a toggle
    (they are in the downloads). The table scrolls sideways inside its box on a narrow screen. The
    simulated legend is the page's (analysis.report adds one per page); ``legend`` adds one here too.
    """
    from analysis import i18n, labels

    marked, gp_marked = rests_on_simulated(frame), goalposts_simulated(frame)
    columns = [c for c in labels.key_columns(kind, list(frame.columns)) if not _empty(frame[c])]
    mark_at = next((columns.index(c) for c in ("achievement", "target", "value") if c in columns), 0)
    rest = [c for c in frame.columns if c not in columns]
    shown = frame.head(max_rows) if max_rows else frame
    parts = ['<div class="u4ssc-table-wrap" style="overflow-x:auto">', f'<table class="{TABLE_CLASS}">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f'<th scope="col">{html.escape(labels.label(c, lang))}</th>'
                                         for c in columns) + "</tr></thead><tbody>")
    places = [labels.decimals(c) for c in columns]
    for i, row in zip(shown.index, shown[columns].itertuples(index=False)):
        cls = (f' class="{SIM_CLASS}" title="simulated value"' if marked[i]
               else f' class="{GP_SIM_CLASS}" title="{GP_SIM_TITLE}"' if gp_marked[i] else "")
        cells = []
        for j, (value, d) in enumerate(zip(row, places)):
            text, numeric = _cell(value, d, lang)
            align = ' style="text-align:right"' if numeric else ""
            dagger = f'<sup class="{GP_SIM_CLASS}">{GP_SIM_MARK}</sup>' if gp_marked[i] and j == mark_at else ""
            cells.append(f"<td{align}>{html.escape(text)}{dagger}</td>")
        parts.append(f"<tr{cls}>{''.join(cells)}</tr>")
    parts.append("</tbody></table></div>")
    if legend and marked.loc[shown.index].any():
        parts.append(f'<p class="u4ssc-legend"><span class="{SIM_CLASS}">'
                     f'{html.escape(i18n.message("table.legend", lang))}</span></p>')
    if max_rows and len(frame) > max_rows:
        parts.append(f"<p>{html.escape(i18n.message('table.more_rows', lang, n=len(frame) - max_rows))}</p>")
    if rest:
        names = html.escape(", ".join(labels.label(c, lang) for c in rest))
        parts.append(f"<details><summary>{html.escape(i18n.message('table.other_columns', lang, n=len(rest)))}"
                     f"</summary><p>{names}</p></details>")
    return "\n".join(parts)


@dataclass(frozen=True)
class DescribedFigure:
    """A drawn figure as an image with real alternative text and a caption stating its finding."""

    png: bytes
    alt: str
    caption: str

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (f'<figure class="u4ssc-figure"><img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
                f'style="max-width:100%;height:auto"><figcaption>{html.escape(self.caption)}</figcaption></figure>')


def described(fig: plt.Figure, alt: str, caption: str, dpi: int = 110) -> DescribedFigure:
    """The figure as PNG with its alternative text and caption; the figure is closed (it is shown only once)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return DescribedFigure(buffer.getvalue(), alt, caption)


def _pct(x: float) -> str:
    return f"{number(x, 0)} %"


def dimension_finding(comparison: pd.DataFrame, municipality: str) -> tuple[str, str]:
    """(alt text, caption) of the dimension chart: every bar in words; highest, lowest, those below the peer median."""
    rows = comparison.dropna(subset=["mean_achievement"]).sort_values(["mean_achievement", "dimension"],
                                                                      ascending=[False, True], kind="mergesort")
    alt = (f"Horizontal bar chart of {municipality}'s mean achievement of target per dimension (0–100 %), with the "
           "peer range and median: " + "; ".join(
               f"{r.dimension} {_pct(r.mean_achievement)} (peers {_pct(r.peer_min)}–{_pct(r.peer_max)}, median "
               f"{_pct(r.peer_median)})" for r in comparison.itertuples()) + ".")
    if rows.empty:
        return alt, f"{municipality} has no scored dimension."
    best, worst = rows.iloc[0], rows.iloc[-1]
    below = [r.dimension for r in rows.itertuples() if r.mean_achievement < r.peer_median]
    caption = (f"{municipality} does best in {best['dimension']} ({_pct(best['mean_achievement'])}) and least well in "
               f"{worst['dimension']} ({_pct(worst['mean_achievement'])}); "
               + (f"below the peer median in {', '.join(below)}." if below else "at or above the peer median in every "
                                                                               "dimension."))
    return alt, caption


def category_finding(categories: pd.DataFrame, municipality: str) -> tuple[str, str]:
    """(alt text, caption) of the category chart: every category's score and band; the count per band and the lowest."""
    own = categories[categories["municipality"] == municipality].reset_index(drop=True)
    own = own.assign(label=_category_labels(own), band=_bands(own))
    alt = ("Horizontal bar chart of the U4SSC score of each category, coloured by band, with band edges at 33, 66 and "
           "95 %: " + "; ".join(f"{r.label} {_pct(r.u4ssc_score)} ({r.band})" if pd.notna(r.u4ssc_score)
                                 else f"{r.label} {r.band}" for r in own.itertuples()) + ".")
    scored = own[own["u4ssc_score"].notna()]
    if scored.empty:
        return alt, f"{municipality} has no scored category."
    counts = scored["band"].value_counts()
    lowest = scored.sort_values(["u4ssc_score", "label"], kind="mergesort").iloc[0]
    caption = (f"{municipality}'s {len(scored)} scored categories by U4SSC band: "
               + ", ".join(f"{int(counts.get(b, 0))} in {b}" for b in reversed(scoring.BAND_LABELS))
               + f"; the lowest is {lowest['label']} ({_pct(lowest['u4ssc_score'])}).")
    return alt, caption
