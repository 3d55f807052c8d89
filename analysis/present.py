"""Presentation for notebooks and reports: escaped HTML tables marking simulated values, banners, figures, downloads."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from analysis import scoring, sdg, simulate
from analysis.files import FIXED_TIME, atomic_folder, atomic_path, fix_zip_times, needs_neutralising, write_csv

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


def export_tables(tables: Mapping[str, pd.DataFrame], folder: Path, workbook: str = "tables.xlsx") -> list[Path]:
    """Write every table as CSV and all of them as sheets of one Excel workbook, as one folder.

    The folder is written whole or not at all (``files.atomic_folder``): a full disk or a killed
    build leaves the previous folder, never a few of its files.
    """
    folder = Path(folder)
    with atomic_folder(folder) as tmp:
        for name, frame in tables.items():
            write_csv(frame, tmp / f"{name}.csv")
        write_workbook(tables, tmp / workbook)
    return [folder / f"{name}.csv" for name in tables] + [folder / workbook]


def plot_dimension_scores(comparison: pd.DataFrame, municipality: str) -> plt.Figure:
    """Bars of the municipality's dimension scores with the peer range and median; hatched when mostly simulated."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    y = np.arange(len(comparison))
    sim = comparison["n_simulated"] > comparison["n_scored"] / 2
    bars = ax.barh(y, comparison["mean_achievement"], color=sns.color_palette()[0], alpha=0.85,
                   label=municipality)
    for bar, is_sim in zip(bars, sim):
        if is_sim:
            bar.set_hatch(SIM_HATCH)
    for i, (score, band) in enumerate(zip(comparison["mean_achievement"], comparison["u4ssc_band"])):
        if pd.isna(score):
            ax.text(1, i, band, va="center", fontsize="x-small", color="dimgrey")
    ax.hlines(y, comparison["peer_min"], comparison["peer_max"], color="black", linewidth=1.2, label="peer range")
    ax.plot(comparison["peer_median"], y, "k|", markersize=14, label="peer median")
    ax.set_yticks(y, comparison["dimension"])
    ax.set_xlim(0, 100)
    ax.set_xlabel("mean achievement of target (%)")
    ax.set_title(y=1.0, label=f"{municipality}: dimension scores against peers")
    handles, names = ax.get_legend_handles_labels()
    if sim.any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch=SIM_HATCH))
        names.append("mostly simulated")
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def plot_category_achievement(categories: pd.DataFrame, municipality: str) -> plt.Figure:
    """U4SSC category scores (Σ points / 4n) for one municipality, coloured by band, hatched when mostly simulated."""
    own = categories[categories["municipality"] == municipality].copy()
    own["label"] = own["dimension"].str.split().str[0] + " · " + own["category"]
    repeated = own["label"].duplicated(keep=False)  # e.g. Water and Sanitation under ICT and Infrastructure
    own.loc[repeated, "label"] += " (" + own.loc[repeated, "sub_dimension"] + ")"
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(own) + 1.2))
    colours = sdg.colour(scoring.points(own["u4ssc_score"]))
    y = np.arange(len(own))
    bars = ax.barh(y, own["u4ssc_score"].fillna(0), color=[sdg.COLOUR_HEX[c] for c in colours])
    ax.set_yticks(y, own["label"])
    for bar, n_sim, n in zip(bars, own["n_simulated"], own["n_scored"]):
        if n and n_sim > n / 2:
            bar.set_hatch(SIM_HATCH)
    for i, (label, n) in enumerate(zip(own["u4ssc_band"], own["n_scored"])):
        if label == scoring.INSUFFICIENT or n == 0:
            ax.text(1, i, f"{label} ({n} scored)", va="center", fontsize="x-small", color="dimgrey")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    for edge in (33, 66, 95):
        ax.axvline(edge, color="grey", linewidth=0.6, linestyle="--")
    ax.set_xlabel("U4SSC category score: Σ points / (4 × data points scored) (%)")
    ax.set_title(y=1.0, label=f"{municipality}: category scores and U4SSC bands")
    ax.legend([Patch(facecolor="white", edgecolor="black", hatch=SIM_HATCH)], ["mostly simulated"],
              loc="lower right", fontsize="small")
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
