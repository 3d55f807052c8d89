"""The two-page version of a profile for residents, in Norwegian Bokmål or English, from the same summary.

What is measured, how the municipality is doing, what it could invest in, how sure the figures are
and how to contribute data or priorities. It is built from ``analysis.summary.Summary`` (the
reviewer's summary), so the two cannot diverge; every sentence is a catalogue message
(``analysis/locale/messages.csv``) and numbers and dates are formatted per locale by Babel.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date as Date

from analysis import i18n, simulate
from analysis.summary import Summary


@dataclass(frozen=True)
class ResidentPage:
    """A resident's page: a summary in one language, the size of the registry and the date of the figures."""

    summary: Summary
    n_data_points: int
    computed: Date

    @property
    def lang(self) -> str:
        return self.summary.lang

    def _m(self, key: str, **fields: object) -> str:
        return html.escape(i18n.message(key, self.lang, **fields))

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, paragraphs) in reading order; the text is already escaped."""
        s, m = self.summary, self.summary.municipality
        said = [html.escape(x) for x in s.sentences()]
        doing, dims, strong, weak, themes, evidence = said[:6]
        sure = [evidence, self._m("resident.sure.simulated")]  # the mostly-simulated warning heads the page
        return [
            (self._m("resident.measured.title"), [self._m("resident.measured", n_data_points=self.n_data_points)]),
            (self._m("resident.doing.title"), [doing, dims, strong, weak]),
            (self._m("resident.invest.title"), [themes, self._m("resident.invest")]),
            (self._m("resident.sure.title"), sure),
            (self._m("resident.contribute.title"), [self._m("resident.contribute.data", municipality=m),
                                                    self._m("resident.contribute.priorities"),
                                                    self._m("resident.contribute.ask")]),
        ]

    def _repr_html_(self) -> str:
        m = self.summary.municipality
        loud = simulate.is_mostly_simulated(self.summary.n_real, self.summary.n_simulated)
        parts = [f'<div class="u4ssc-resident" lang="{self.lang}">',  # the page's title is resident.title
                 f"<p>{self._m('resident.intro', municipality=m)}</p>"]
        if loud:
            parts.append(f'<div class="u4ssc-banner u4ssc-simulated">{self._m("summary.mostly_simulated")}</div>')
        for heading, paragraphs in self.sections():
            parts.append(f"<h2>{heading}</h2>" + "".join(f"<p>{p}</p>" for p in paragraphs))
        parts.append(self.summary.grid_html())
        parts.append(f"<p>{self._m('resident.date', date=i18n.date(self.computed, self.lang))}</p></div>")
        return "\n".join(parts)


def from_profile(prof, lang: str = "nb") -> ResidentPage:
    """The resident page of an ``analysis.profile.Profile`` in ``lang``."""
    from datetime import datetime

    from analysis import summary

    computed = datetime.fromisoformat(prof.provenance["executed_at"]).date()
    return ResidentPage(summary.from_profile(prof, lang), n_data_points=len(prof.assessment.catalogue),
                        computed=computed)
