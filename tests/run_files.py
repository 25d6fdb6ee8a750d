"""What a run writes, listed once for the tests that check an output folder.

tests/test_cli.py and tests/test_report.py check real runs, tests/test_outputs_without_r.py a
result built without R, tests/test_faults.py the all-or-nothing writing: a new output or plot
is added here, and each of them expects it.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

#: The quality-control plots of a run whose raw counts were recovered (the rounded-vs-recovered
#: dispersion plot is drawn only then), in the order of the report.
QC_PLOTS = [
    "size_factors.png",
    "dispersion.png",
    "dispersion_rounded_vs_recovered.png",
    "pca.png",
    "sample_distances.png",
]

#: The report's sections, in order.
SECTIONS = ["Inputs and size-factor check", "Method", "Design and contrasts", "Quality control", "Software versions"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def contrast_plots(stem: str) -> list[str]:
    """The plots of one contrast (``stem``: its results table's name without ``.tsv``), in order."""
    return [f"{stem}_ma.png", f"{stem}_volcano.png", f"{stem}_pvalue_histogram.png"]


def run_files(
    stem: str,
    *,
    transformed: bool = False,
    model: bool = False,
    recovered: bool = True,
    plots: bool = True,
    report: bool = True,
) -> list[str]:
    """The sorted names in the output folder of a run with one contrast.

    Parameters
    ----------
    stem
        The contrast's results table, without ``.tsv``.
    transformed
        A transform was asked for (``transformed_counts.tsv``).
    model
        ``--save-rds`` (``model.rds``).
    recovered
        The raw counts were recovered (``recovered_counts.tsv``).
    plots
        ``--plots both``: the ``plots`` folder and ``plots.pdf``.
    report
        The report (``report.html``).
    """
    names = ["diagnostics.json", "model_size_factors.tsv", "normalized_counts.tsv", "size_factors.tsv", f"{stem}.tsv"]
    names += ["transformed_counts.tsv"] * transformed + ["model.rds"] * model
    names += ["recovered_counts.tsv"] * recovered + ["plots", "plots.pdf"] * plots + ["report.html"] * report
    return sorted(names)


def assert_report_and_plots(folder: Path, *, report: bool, pngs: bool, pdf: bool) -> None:
    """Assert which of the report, the PNGs and the PDF a run with one contrast wrote into ``folder``.

    Its 8 plots (:data:`QC_PLOTS` and :func:`contrast_plots`) as PNGs and as PDF pages, and no
    staging folder left behind.
    """
    assert (folder / "report.html").exists() == report
    assert (folder / "plots").is_dir() == pngs
    assert (folder / "plots.pdf").exists() == pdf
    if pngs:
        assert len(list((folder / "plots").glob("*.png"))) == 8
    if pdf:
        assert pdf_pages(folder / "plots.pdf") == 8
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "staging folder left behind"


def pdf_pages(path: Path) -> int:
    """The pages of a PDF file."""
    # Page objects are "/Type /Page"; the page tree is "/Type /Pages" (excluded by the \b).
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


def embedded_images(html: str) -> list[bytes]:
    """The PNG images a page embeds as data URLs, decoded."""
    return [base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]
