"""The Galaxy report after Galaxy's own HTML cleaning, as a production server shows it.

A Galaxy server that does not allowlist the tool passes HTML outputs through
``galaxy.util.sanitize_html.sanitize_html``. The tool writes its report with
``--report-form files`` (plots, style sheet and script as files of the dataset); here that
report is cleaned with Galaxy's sanitizer (this runs in Galaxy's virtualenv) and must keep
every section and every plot, show no style sheet as text, and render every plot in headless
Chromium. Runs with the browser test (``galaxy/harness.py browser-test``, ``make galaxy-test``).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("selenium")
pytestmark = [
    pytest.mark.galaxy,
    pytest.mark.chromium,
    pytest.mark.skipif(not os.environ.get("DESEQ2N_GALAXY_URL"), reason="runs with the Galaxy tests: make galaxy-test"),
]

from browser_steps import Page, new_driver  # noqa: E402
from galaxy.util.sanitize_html import sanitize_html  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "output" / "sanitized"
TOOL = Path(os.environ.get("DESEQ2N_TOOL_BIN", ROOT / ".venv" / "bin")) / "deseq2-normalized"
SECTIONS = [
    "Inputs and size-factor check",
    "Method",
    "Design and contrasts",
    "Quality control",
    "Contrast: condition: treated vs untreated",
    "Software versions",
]
# The default method recovers the subset's raw counts: 7 plots and the rounded-vs-recovered dispersions.
PLOTS = 8


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tool's Galaxy report of the pasilla subset (the command line the tool runs)."""
    out = tmp_path_factory.mktemp("run")
    subprocess.run(
        [
            str(TOOL), "run", "--counts", str(ROOT / "test-data" / "galaxy_normalized.tsv"),
            "--samples", str(ROOT / "test-data" / "pasilla_samples.tsv"), "--design", "~ type + condition",
            "--reference", "untreated", "--out-dir", str(out), "--report-form", "files", "--interface", "galaxy",
            "--plots", "none", "--quiet",
        ],
        check=True,
    )  # fmt: skip
    return out / "report"


def test_sanitized_report_keeps_every_section_and_plot(report: Path) -> None:
    page = (report / "report.html").read_text(encoding="utf-8")
    cleaned = sanitize_html(page)
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in cleaned, heading
    sources = re.findall(r'<img src="([^"]+)"', cleaned)
    assert len(sources) == PLOTS, sources
    assert all((report / src).is_file() for src in sources), sources
    assert re.findall(r'<img src="([^"]+)"', page) == sources  # nothing was dropped
    # The sortable gene table and the links of the navigation survive.
    assert cleaned.count('<table class="sortable genes">') == 1
    assert '<a href="#summary">' in cleaned
    # No style sheet or script text turned into page text.
    for css in ("font-family", "border-collapse", "addEventListener", "{"):
        assert css not in cleaned, css


def test_sanitized_report_renders_in_a_browser(report: Path, tmp_path: Path) -> None:
    cleaned = report / "sanitized.html"
    cleaned.write_text(sanitize_html((report / "report.html").read_text(encoding="utf-8")), encoding="utf-8")
    driver = new_driver(tmp_path / "chromium-profile")
    try:
        page = Page(driver, cleaned.as_uri(), SHOTS)
        driver.get(cleaned.as_uri())
        text = page.wait("the cleaned report", lambda: (t := page.text_everywhere()) and "Software versions" in t and t)
        for heading in SECTIONS:
            assert heading in text, heading
        assert "font-family" not in text and "{" not in text
        images = page.wait(
            "every plot to render",
            lambda: (imgs := page.images_everywhere()) and len(imgs) == PLOTS and all(w > 0 for _, w in imgs) and imgs,
        )
        assert len(images) == PLOTS
        page.screenshot("sanitized_report")
    finally:
        driver.quit()
