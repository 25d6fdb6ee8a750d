"""End-to-end: a person's clicks through the Galaxy web client, in headless Chromium.

Runs only against a started local Galaxy (``galaxy/harness.py browser-test`` or
``make galaxy-test`` set DESEQ2N_GALAXY_URL and the login); skipped otherwise. Screenshots of
every step are kept in tests/galaxy/output/browser/<test>/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("selenium")
URL = os.environ.get("DESEQ2N_GALAXY_URL")
pytestmark = [
    pytest.mark.galaxy,
    pytest.mark.chromium,
    pytest.mark.skipif(not URL, reason="needs a running Galaxy: make galaxy-test"),
]

from browser_steps import Page, new_driver  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "output" / "browser"
MATRIX = ROOT / "test-data" / "pasilla_normalized.tsv"
SAMPLES = ROOT / "test-data" / "pasilla_samples.tsv"
RAW = ROOT / "test-data" / "galaxy_raw_counts.tsv"
# The strongest pasilla knock-down gene: treated vs untreated, design ~ condition, on the whole
# normalized pasilla table with the form's defaults (method auto: the raw counts and size factors
# are recovered exactly, so this is standard DESeq2). padj is about 4.066e-161 (with a tolerance).
GENE = "FBgn0039155"
PADJ_RE = re.compile(r"4\.0[5-7]\d*e-161")


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest):
    shots = SHOTS / request.node.name.removeprefix("test_")
    shutil.rmtree(shots, ignore_errors=True)
    driver = new_driver(tmp_path / "chromium-profile")
    try:
        yield Page(driver, URL or "", shots)
    finally:
        driver.quit()


def test_upload_run_and_read_results(page: Page) -> None:
    page.login(os.environ["DESEQ2N_GALAXY_EMAIL"], os.environ["DESEQ2N_GALAXY_PASSWORD"])
    page.screenshot("logged_in")
    page.new_history()

    page.upload([MATRIX, SAMPLES])
    page.wait_for_items(2, timeout=900)
    page.screenshot("uploaded")

    page.open_tool("normalized counts", "deseq2_normalized")
    page.screenshot("tool_form")
    # The form's defaults: the factor of interest is the sheet's first design column, and one
    # comparison (numerator against reference) is asked for.
    page.pick("counts", MATRIX.name)
    page.pick("mode|samples", SAMPLES.name)
    page.wait("the default factor", lambda: "condition" in page.field_text("mode|factor"))
    assert "One comparison" in page.field_text("mode|compare|compare_select")
    page.type_text("mode|compare|numerator", "treated")
    page.type_text("mode|compare|denominator", "untreated")
    page.screenshot("tool_form_filled")
    page.run_tool()
    page.screenshot("submitted")

    items = page.wait_for_items(6, timeout=900)  # 2 inputs + results, report, size factors, diagnostics
    page.screenshot("outputs_done")
    # Output names say what they are; the results' name the comparison.
    names = [i.text for i in items]
    result = next(i for i in items if "DESeq2 results: treated vs untreated" in i.text)
    assert any("DESeq2 report" in n for n in names), names
    result.find_element("css selector", "[title='View']").click()
    text = page.wait("the results table", lambda: (t := page.text_everywhere()) and GENE in t and t)
    page.screenshot("results_dataset")

    line = next(ln for ln in text.splitlines() if GENE in ln)
    assert "log2FoldChange" in text and "padj" in text
    assert PADJ_RE.search(line), f"padj of {GENE} not as expected: {line!r}"

    # The HTML report, shown by Galaxy unaltered (the tool is on the local server's sanitize
    # allowlist): its sections, and every plot, a file of the dataset, rendered by the browser.
    # (tests/galaxy/test_sanitized_report.py looks at the report as a cleaning server shows it.)
    report = next(i for i in page.history_items() if "DESeq2 report" in i.text)
    report.find_element("css selector", "[title='View']").click()
    text = page.wait("the report", lambda: (t := page.text_everywhere()) and "Inputs and size-factor check" in t and t)
    for heading in ("Method", "Design and contrasts", "Contrast: condition: treated vs untreated", "Software versions"):
        assert heading in text, heading
    assert "'How the normalized table becomes counts' = auto" in text
    plots = page.wait(
        "the report's plots to render",
        lambda: (
            (imgs := [i for i in page.images_everywhere() if i[0].endswith(".png")])
            and len(imgs) >= 7
            and all(width > 0 for _, width in imgs)
            and imgs
        ),
    )
    assert not [src for src, _ in plots if src.startswith("data:")], plots
    page.screenshot("report")


def _wait_for_new_item(page: Page, before: int, timeout: float = 900) -> dict:
    """The first output of the job just run, once it is finished (ok or error)."""

    def done() -> dict | None:
        new = [c for c in page.current_history_contents() if c["hid"] > before and not c.get("deleted")]
        finished = [c for c in new if c.get("state") in ("ok", "error") or c.get("populated_state") == "ok"]
        return finished[0] if new and len(finished) == len(new) else None

    return page.wait("the job's outputs", done, timeout)


def test_the_usual_mistakes(page: Page) -> None:
    """Same dataset twice, the default reference level, and raw counts given by mistake."""
    page.login(os.environ["DESEQ2N_GALAXY_EMAIL"], os.environ["DESEQ2N_GALAXY_PASSWORD"])
    page.new_history()
    page.upload([MATRIX, SAMPLES, RAW])
    page.wait_for_items(3, timeout=900)

    # 1. The count matrix chosen as the sample sheet too: the job fails and says so.
    page.open_tool("normalized counts", "deseq2_normalized")
    page.pick("counts", MATRIX.name)
    page.pick("mode|samples", MATRIX.name)
    page.type_text("mode|compare|numerator", "treated")
    page.type_text("mode|compare|denominator", "untreated")
    page.screenshot("same_dataset_twice_form")
    page.run_tool()
    failed = _wait_for_new_item(page, 3)
    assert failed["state"] == "error", failed
    stderr = page.job_stderr(failed["id"])
    assert (
        f"the dataset '{MATRIX.name}' is chosen both as 'DESeq2-normalized count matrix' and as 'Sample sheet'"
        in stderr
    ), stderr
    page.screenshot("same_dataset_twice_failed")

    # 2. Every level against a reference, the reference left empty: 'untreated' is picked by
    #    its name, said in the messages, and the comparison is treated vs untreated.
    last = max(c["hid"] for c in page.current_history_contents())
    page.open_tool("normalized counts", "deseq2_normalized")
    page.pick("counts", MATRIX.name)
    page.pick("mode|samples", SAMPLES.name)
    page.pick("mode|compare|compare_select", "Every level")
    page.screenshot("default_reference_form")
    page.run_tool()
    done = page.wait(
        "the collection of results",
        lambda: [
            c
            for c in page.current_history_contents()
            if c["hid"] > last
            and c.get("history_content_type") == "dataset_collection"
            and c.get("populated_state") == "ok"
        ],
        timeout=900,
    )
    collection = page.api(f"/api/dataset_collections/{done[0]['id']}?instance_type=history")
    assert isinstance(collection, dict), collection
    elements = [e["element_identifier"] for e in collection["elements"]]
    assert elements == ["condition_treated_vs_untreated"], elements
    report = page.wait(
        "the report",
        lambda: next(
            (
                c
                for c in page.current_history_contents()
                if c["hid"] > last and "report" in c["name"] and c["state"] == "ok"
            ),
            None,
        ),
        timeout=900,
    )
    stderr = page.job_stderr(report["id"])
    assert "reference level of 'condition': 'untreated' (picked as a control's name" in stderr, stderr
    page.screenshot("default_reference_done")

    # 3. Raw counts given by mistake: analysed as raw counts (size factors estimated by DESeq2),
    #    and said so; the job is green because the answer is the right one. (Last: it needs the
    #    library's raw-counts analysis of the default method.)
    last = max(c["hid"] for c in page.current_history_contents())
    page.open_tool("normalized counts", "deseq2_normalized")
    page.pick("counts", RAW.name)
    page.pick("mode|samples", SAMPLES.name)
    page.type_text("mode|compare|numerator", "treated")
    page.type_text("mode|compare|denominator", "untreated")
    page.run_tool()
    first = _wait_for_new_item(page, last)
    assert first["state"] == "ok", (first, page.job_stderr(first["id"]))
    stderr = page.job_stderr(first["id"])
    assert "raw counts" in stderr and "size factors estimated by DESeq2" in stderr, stderr
    page.screenshot("raw_counts_done")
