"""End-to-end: a person's clicks through the Galaxy web client, in headless Chromium.

Runs only against a started local Galaxy (``galaxy/harness.py browser-test`` or
``make galaxy-test`` set DESEQ2N_GALAXY_URL and the login); skipped otherwise. Screenshots of
every step are kept in tests/galaxy/output/browser/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("selenium")
URL = os.environ.get("DESEQ2N_GALAXY_URL")
pytestmark = pytest.mark.skipif(not URL, reason="needs a running Galaxy: make galaxy-test")

from browser_steps import Page, new_driver  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "output" / "browser"
MATRIX = ROOT / "test-data" / "pasilla_normalized.tsv"
SAMPLES = ROOT / "test-data" / "pasilla_samples.tsv"
# The strongest pasilla knock-down gene: treated vs untreated, design ~ condition, on the whole
# normalized pasilla table. padj is about 6.58e-164 (checked with a tolerance).
GENE = "FBgn0039155"
PADJ_RE = re.compile(r"6\.5[5-9]\d*e-164")


@pytest.fixture
def page(tmp_path: Path):
    shutil.rmtree(SHOTS, ignore_errors=True)
    driver = new_driver(tmp_path / "chromium-profile")
    try:
        yield Page(driver, URL or "", SHOTS)
    finally:
        driver.quit()


def test_upload_run_and_read_results(page: Page) -> None:
    page.login(os.environ["DESEQ2N_GALAXY_EMAIL"], os.environ["DESEQ2N_GALAXY_PASSWORD"])
    page.screenshot("logged_in")
    page.new_history()

    page.upload([MATRIX, SAMPLES])
    page.wait_for_items(2, timeout=300)
    page.screenshot("uploaded")

    page.open_tool("normalized counts", "deseq2_normalized")
    page.screenshot("tool_form")
    page.pick("counts", MATRIX.name)
    page.pick("mode|samples", SAMPLES.name)
    page.pick("mode|factor", "condition")
    page.pick("mode|compare|compare_select", "One comparison")
    page.type_text("mode|compare|numerator", "treated")
    page.type_text("mode|compare|denominator", "untreated")
    page.screenshot("tool_form_filled")
    page.wait("the Run Tool button", lambda: "disabled" not in (page.visible("#execute").get_attribute("class") or ""))
    page.visible("#execute").click()
    page.wait(
        "the job to be queued", lambda: "queued" in page.driver.page_source.lower() or len(page.history_items()) > 2
    )
    page.screenshot("submitted")

    items = page.wait_for_items(6, timeout=900)  # 2 inputs + results, report, size factors, diagnostics
    page.screenshot("outputs_done")
    result = next(i for i in items if i.text.rstrip().endswith(": results"))
    result.find_element("css selector", "[title='View']").click()
    text = page.wait("the results table", lambda: (t := page.text_everywhere()) and GENE in t and t)
    page.screenshot("results_dataset")

    line = next(ln for ln in text.splitlines() if GENE in ln)
    assert "log2FoldChange" in text and "padj" in text
    assert PADJ_RE.search(line), f"padj of {GENE} not as expected: {line!r}"

    # The HTML report, shown by Galaxy unaltered (the tool is on the local server's sanitize
    # allowlist): its sections, and every embedded plot actually rendered by the browser.
    report = next(i for i in page.history_items() if i.text.rstrip().endswith(": report"))
    report.find_element("css selector", "[title='View']").click()
    text = page.wait("the report", lambda: (t := page.text_everywhere()) and "Inputs and size-factor check" in t and t)
    for heading in ("Method", "Design and contrasts", "Contrast: condition: treated vs untreated", "Software versions"):
        assert heading in text, heading
    plots = page.wait(
        "the report's plots to render",
        lambda: (
            (imgs := [i for i in page.images_everywhere() if i[0].startswith("data:image/png;base64,")])
            and all(width > 0 for _, width in imgs)
            and imgs
        ),
    )
    assert len(plots) >= 7, plots
    page.screenshot("report")
