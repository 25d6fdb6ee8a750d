"""What each results table tests, the file it is written to, and the genes it calls."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Stem of the one results table of a likelihood-ratio test.
LRT_STEM = "results_lrt"

#: Longest file stem of a results table. File systems allow 255 bytes per name; the plots add
#: ``_pvalue_histogram.png`` to the stem, so long factor or level names are cut to this length.
MAX_STEM = 200


@dataclass(frozen=True)
class Contrast:
    """One Wald contrast and the file stem its results are written under."""

    factor: str
    numerator: str
    denominator: str

    @property
    def stem(self) -> str:
        """``results_<factor>_<numerator>_vs_<denominator>`` with file-safe characters.

        A stem longer than :data:`MAX_STEM` is cut and ends in a digest of the whole stem, so that
        two long contrasts still get two files.
        """
        stem = "results_" + "_".join(_file_safe(x) for x in (self.factor, self.numerator, "vs", self.denominator))
        if len(stem) <= MAX_STEM:
            return stem
        digest = hashlib.sha256(stem.encode("ascii")).hexdigest()[:12]
        return f"{stem[: MAX_STEM - len(digest) - 1]}-{digest}"


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-.") or "x"


@dataclass(frozen=True)
class ResultSummary:
    """One results table of a run: what it tests and how many genes it calls.

    Attributes
    ----------
    contrast
        The Wald contrast, or None for the likelihood-ratio test.
    up, down
        Genes with padj below ``alpha`` and a positive (negative) log2 fold change.
    tested
        Genes with an adjusted p-value.
    reduced
        The reduced design of the likelihood-ratio test (None for a Wald contrast).
    """

    contrast: Contrast | None
    up: int
    down: int
    tested: int
    reduced: str | None = None

    @property
    def stem(self) -> str:
        """Key of the table in ``AnalysisResult.results`` and its file name without ``.tsv``."""
        return self.contrast.stem if self.contrast is not None else LRT_STEM

    @property
    def file(self) -> str:
        """The results file's name."""
        return f"{self.stem}.tsv"

    @property
    def test(self) -> str:
        """``"Wald"`` or ``"LRT"``."""
        return "Wald" if self.contrast is not None else "LRT"
