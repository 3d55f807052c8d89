"""Progress of long commands: named stages with their times, live (rich) on a terminal, plain lines elsewhere.

A command declares its stages up front (``Stages(["validate", "assess", ...])``) and runs each in
``with stages.stage(name):``. On a terminal rich shows a spinner and the elapsed time of the
running stage, then a tick and its time; on a pipe or a CI log every stage prints one line when
it starts and one when it ends, with no control characters, so logs stay readable.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@dataclass
class Stages:
    """The stages of one command, shown as they run; ``times`` holds each finished stage's seconds."""

    names: list[str]
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    live: bool | None = None
    """Live display: None chooses by whether ``stream`` is a terminal (rich's own test)."""
    times: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.console = Console(file=self.stream, force_terminal=self.live, highlight=False)
        if self.live is None:
            self.live = self.console.is_terminal

    def _label(self, name: str) -> str:
        number = self.names.index(name) + 1 if name in self.names else len(self.times) + 1
        return f"[{number}/{len(self.names)}] {name}"

    def _plain(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Run one stage: shown live or as a start and an end line; its time is recorded even if it fails."""
        start = time.perf_counter()
        progress = None
        if self.live:
            progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                console=self.console, transient=True)
            progress.add_task(self._label(name), total=None)
            progress.start()
        else:
            self._plain(f"{self._label(name)} ...")
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            seconds = time.perf_counter() - start
            self.times[name] = seconds
            if progress is not None:
                progress.stop()
            outcome = "failed after" if failed else "done in"
            if self.live:
                mark = "[red]✗" if failed else "[green]✓"
                self.console.print(f"{mark}[/] {self._label(name)} {outcome} {seconds:.1f} s")
            else:
                self._plain(f"{self._label(name)} {outcome} {seconds:.1f} s")

    def note(self, text: str) -> None:
        """A line under the current stage (plain on a pipe)."""
        if self.live:
            self.console.print(f"    {text}", markup=False)
        else:
            self._plain(f"    {text}")

    def summary(self) -> str:
        """One line with every finished stage and its time, and the total."""
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.times.items()]
        return f"{', '.join(parts)}; total {sum(self.times.values()):.1f} s"


def notebook_split(nb, figure_mime: str = "image/png") -> dict[str, float]:
    """Seconds of an executed notebook's cells that drew figures and of the other cells, from papermill's durations.

    papermill records each cell's duration in ``cell.metadata.papermill.duration``; a cell counts
    as a figure cell when one of its outputs is an image.
    """
    split = {"tables": 0.0, "figures": 0.0}
    for cell in nb.cells:
        seconds = (cell.get("metadata", {}).get("papermill", {}) or {}).get("duration") or 0.0
        drew = any(figure_mime in out.get("data", {}) for out in cell.get("outputs", []))
        split["figures" if drew else "tables"] += float(seconds)
    return split
