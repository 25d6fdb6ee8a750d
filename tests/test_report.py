"""Plots and the self-contained HTML report of real runs: files, contents, escaping, a real browser.

The same on a result built without R, in the fast loop: tests/test_outputs_without_r.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import plots, run_analysis
from deseq2_normalized.cli import main
from deseq2_normalized.reader import read_counts, read_samples
from run_files import (
    PNG_SIGNATURE,
    QC_PLOTS,
    SECTIONS,
    assert_report_and_plots,
    contrast_plots,
    embedded_images,
    pdf_pages,
)
from tables import HOSTILE_GENE, HOSTILE_LEVEL, hostile_counts, hostile_sheet

STEM = "results_condition_treated_vs_untreated"
# The default (auto) recovers the example's raw counts: the rounded-vs-recovered dispersion plot is drawn too.
CONTRAST_PLOTS = contrast_plots(STEM)


def run_cli(*args: str | Path) -> None:
    code = main([str(a) for a in (*args, "--quiet")])
    assert code == 0


def run_two_factor(counts: Path, sheet: Path, out: Path, *extra: str) -> Path:
    """``run`` with the pasilla design, treated against untreated; returns ``out``."""
    run_cli("run", "--counts", counts, "--samples", sheet, "--out-dir", out, "--design", "~ type + condition",
            "--reference", "untreated", *extra)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, normalized_path, samples_path) -> Path:
    """The bundled example with the defaults: report and plots as PNG and PDF, vst."""
    return run_two_factor(normalized_path, samples_path, tmp_path_factory.mktemp("full"), "--transform", "vst")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, normalized_path, samples_path) -> tuple[Path, Path]:
    """1,501 pasilla genes, the strongest renamed to a script tag; a sample and a level with markup."""
    folder = tmp_path_factory.mktemp("hostile")
    hostile_counts(read_counts(normalized_path)).to_csv(folder / "counts.tsv", sep="\t", index_label="gene_id")
    sheet = hostile_sheet(read_samples(samples_path).table)
    sheet.to_csv(folder / "samples.tsv", sep="\t", index_label="sample")
    return folder / "counts.tsv", folder / "samples.tsv"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, hostile) -> Path:
    """The hostile table, --transform none and --plots none: the report must still hold every plot."""
    return run_two_factor(*hostile, tmp_path_factory.mktemp("hostile_run"), "--transform", "none", "--plots", "none")


# --- files --------------------------------------------------------------------------------


@pytest.mark.r
def test_default_run_writes_report_pdf_and_pngs(full_run):
    assert (full_run / "report.html").is_file()
    assert sorted(p.name for p in (full_run / "plots").iterdir()) == sorted(QC_PLOTS + CONTRAST_PLOTS)
    assert not [p for p in full_run.iterdir() if p.name.startswith(".")], "staging folder left behind"


@pytest.mark.r
@pytest.mark.parametrize("name", QC_PLOTS + CONTRAST_PLOTS)
def test_png_is_a_real_image(full_run, name):
    data = (full_run / "plots" / name).read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 15_000, "an almost empty image"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 600 and height >= 450


@pytest.mark.r
def test_pdf_has_one_page_per_plot(full_run):
    pdf = full_run / "plots.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf_pages(pdf) == len(QC_PLOTS + CONTRAST_PLOTS) == 8


# --- the report ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(full_run) -> str:
    return (full_run / "report.html").read_text(encoding="utf-8")


@pytest.mark.r
def test_report_sections_and_inputs(report):
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in report
    assert "<h2>Contrast: condition: treated vs untreated</h2>" in report
    assert "pasilla_normalized.tsv" in report and "pasilla_samples.tsv" in report
    assert "14,599 genes x 7 samples" in report
    assert "scaled counts" in report and "DESeq2 median-of-ratios" in report
    # The method section says which size factors DESeq2 used and why.
    assert "<th>size factors</th>" in report and "equals the original size factors" in report
    assert re.search(r"Run on \d{4}-\d\d-\d\d \d\d:\d\d", report)
    for tool in ("DESeq2", "rpy2", "R", "deseq2-normalized"):
        assert f"<th>{tool}</th>" in report


@pytest.mark.r
def test_report_verdict_is_green_on_the_example(report):
    assert '<span class="badge green">raw counts recovered</span>' in report
    assert "badge amber" not in report and "badge red" not in report


@pytest.mark.r
def test_report_counts_equal_diagnostics(full_run, report):
    contrast = json.loads((full_run / "diagnostics.json").read_text())["contrasts"][0]
    assert contrast["up"] > 0 and contrast["down"] > 0
    assert f'<span class="up">{contrast["up"]} up</span>' in report
    assert f'<span class="down">{contrast["down"]} down</span>' in report
    assert f"of {contrast['tested']} genes tested" in report


@pytest.mark.r
def test_report_embeds_every_plot_file(full_run, report):
    images = embedded_images(report)
    assert len(images) == 8
    on_disk = {(full_run / "plots" / name).read_bytes() for name in QC_PLOTS + CONTRAST_PLOTS}
    assert set(images) == on_disk


@pytest.mark.r
def test_report_top_genes_table(full_run, report):
    results = pd.read_csv(full_run / f"{STEM}.tsv", sep="\t", index_col=0)
    table = re.search(r'<table class="sortable genes">(.*?)</table>', report, re.S)
    assert table
    genes = re.findall(r"<tr><td>([^<]+)</td>", table.group(1))
    assert genes == list(results.index[:50])
    first = re.search(r'<td class="num" data-sort="([^"]+)">', table.group(1))
    assert first and float(first.group(1)) == pytest.approx(results["baseMean"].iloc[0], rel=1e-12)


@pytest.mark.r
def test_report_is_self_contained(report):
    assert "http://" not in report and "https://" not in report
    references = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", report)
    assert references, "no src/href found at all"
    for ref in references:
        assert ref.startswith(("data:image/png;base64,", "#")), ref


# --- hostile text, --transform none, --plots none -------------------------------------------


@pytest.mark.r
def test_hostile_text_is_escaped(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert HOSTILE_GENE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert HOSTILE_LEVEL not in html
    # The only script is the report's own sorting code, the only images the plots.
    assert html.count("<script>") == 1 and "alert" not in html.split("<script>")[1]
    assert html.count("<img ") == len(embedded_images(html)) == 8


@pytest.mark.r
def test_plots_none_publishes_no_plot_file_but_the_report_has_them(hostile_run):
    assert not (hostile_run / "plots").exists() and not (hostile_run / "plots.pdf").exists()
    assert sorted(p.name for p in hostile_run.iterdir() if p.name.endswith((".html", ".pdf"))) == ["report.html"]
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert "log2(normalized counts + 1) (no transformation requested)" in html
    assert all(image.startswith(PNG_SIGNATURE) for image in embedded_images(html))


@pytest.mark.parametrize(
    ("flags", "report", "pngs", "pdf"),
    [
        (["--no-report", "--plots", "none"], False, False, False),
        (["--no-report", "--plots", "png"], False, True, False),
        (["--no-report", "--plots", "pdf"], False, False, True),
        (["--plots", "pdf"], True, False, True),
    ],
)
@pytest.mark.r
def test_report_and_plot_flags(tmp_path, hostile, flags, report, pngs, pdf):
    counts, sheet = hostile
    run_cli("run", "--counts", counts, "--samples", sheet, "--out-dir", tmp_path, "--transform", "none", *flags)
    assert_report_and_plots(tmp_path, report=report, pngs=pngs, pdf=pdf)


@pytest.mark.r
def test_failed_plot_leaves_no_output(tmp_path, hostile, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("plotting broke")

    monkeypatch.setattr(plots, "volcano_plot", broken)
    counts, sheet = hostile
    code = main(
        ["run", "--counts", str(counts), "--samples", str(sheet), "--out-dir", str(tmp_path), "--transform", "none"]
    )
    assert code == 1
    assert "plotting broke" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --- recovered counts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def recovered_run(tmp_path_factory, hostile) -> Path:
    """--method recover on a pasilla subset (every sample is recovered exactly)."""
    return run_two_factor(*hostile, tmp_path_factory.mktemp("recovered"), "--method", "recover")


@pytest.mark.r
def test_recovered_run_compares_dispersions(recovered_run):
    png = recovered_run / "plots" / "dispersion_rounded_vs_recovered.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert pdf_pages(recovered_run / "plots.pdf") == 8
    html = (recovered_run / "report.html").read_text(encoding="utf-8")
    assert "Dispersions: rounded table vs recovered counts" in html
    assert png.read_bytes() in embedded_images(html)
    assert '<span class="badge green">' in html and "every sample recovered exactly" in html


@pytest.mark.r
def test_rounded_dispersions_are_those_of_the_rounding_method(hostile):
    """The dispersion-only fit on the rounded table equals the dispersions of a --method round run."""
    counts, sheet = read_counts(hostile[0]), read_samples(hostile[1])
    options = {"design": "~ type + condition", "reference": "untreated", "transform": "none"}
    recovered = run_analysis(counts, sheet, method="recover", **options)
    rounded = run_analysis(counts, sheet, method="round", **options)
    assert recovered.rounded_dispersions is not None and rounded.rounded_dispersions is None
    np.testing.assert_allclose(
        recovered.rounded_dispersions["dispersion"], rounded.dispersions["dispersion"], rtol=1e-10
    )
    # ... and differ from the recovered counts' own dispersions, which is what the plot shows.
    assert not np.allclose(recovered.dispersions["dispersion"], rounded.dispersions["dispersion"], rtol=1e-3)


# --- a real browser ----------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",  # the page's console messages, uncaught script errors among them
        "--v=0",
    ]
    assert CHROMIUM, "chromium is not installed: `make test` installs it (galaxy/system_deps.sh)"
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True)


def console_errors(stderr: str) -> list[str]:
    """The page's console messages that report an error (chromium's log on stderr)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


@pytest.mark.r
@pytest.mark.chromium
def test_report_renders_in_a_browser(full_run, tmp_path):
    report = full_run / "report.html"
    proc = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert console_errors(proc.stderr) == []
    dom = proc.stdout
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in dom
    assert dom.count('<img src="data:image/png;base64,') == 8
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", report.as_uri())
    assert shot.read_bytes().startswith(PNG_SIGNATURE) and shot.stat().st_size > 50_000


@pytest.mark.chromium
def test_console_errors_are_seen(tmp_path):
    """The check above can fail: a script error on a page shows in chromium's log."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>notDefinedAnywhere();</script></body></html>", encoding="utf-8")
    errors = console_errors(chromium(tmp_path, "--dump-dom", page.as_uri()).stderr)
    assert len(errors) == 1 and "notDefinedAnywhere is not defined" in errors[0]


@pytest.mark.r
@pytest.mark.chromium
def test_clicking_a_header_sorts_the_table(full_run, tmp_path):
    html = (full_run / "report.html").read_text(encoding="utf-8")
    # Click the baseMean header once the report's own script has run.
    click = '<script>document.querySelector("table.sortable thead th:nth-child(2)").click();</script>'
    page = tmp_path / "clicked.html"
    page.write_text(html.replace("</body>", click + "</body>"), encoding="utf-8")
    proc = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert console_errors(proc.stderr) == []
    dom = proc.stdout
    table = re.search(r'<table class="sortable genes">(.*?)</table>', dom, re.S)
    assert table and 'class="asc"' in table.group(1)
    rows = re.findall(r"<tr><td>[^<]+</td><td class=\"num\" data-sort=\"([^\"]+)\"", table.group(1))
    base_means = [float(x) for x in rows]
    assert len(base_means) == 50 and base_means == sorted(base_means)
    assert base_means != [float(x) for x in re.findall(r'<tr><td>[^<]+</td><td class="num" data-sort="([^"]+)"', html)]


# --- the traffic light ---------------------------------------------------------------------


def fake_result(passed: bool, method: str = "round", unstable: int = 0, approximate: bool = False):
    from types import SimpleNamespace

    verdict = "approximate" if approximate else "exact"
    samples = (SimpleNamespace(sample="s1", verdict=verdict, usable=not approximate),)
    recovery = SimpleNamespace(samples=samples, approximate=False)
    classification = SimpleNamespace(kind="scaled_counts", recovery=recovery, pseudocount=None)
    check = SimpleNamespace(
        size_factors=SimpleNamespace(passed=passed),
        classification=classification,
        check_failed_for=lambda used: used == "round" and not passed,
        story=lambda used: "the check's words",
    )
    from deseq2_normalized.rounding import CallStability
    from deseq2_normalized.sensitivity import RoundingSensitivity

    sensitivity = None
    if unstable is not None:
        stability = CallStability(
            main_calls=100, called_in_any_run=100, unstable_calls=unstable, unstable_fraction=0.01
        )
        sensitivity = RoundingSensitivity(roundings=3, seed=1, alpha=0.1, contrasts={"r.tsv": stability})
    return SimpleNamespace(
        method=SimpleNamespace(name=method, requested="auto"), check=check, rounding_sensitivity=sensitivity
    )


@pytest.mark.parametrize(
    ("passed", "method", "unstable", "approximate", "level"),
    [
        # The rounding workaround approximates the original analysis: amber, with the measured agreement.
        (True, "round", 0, False, "amber"),
        (True, "recover", None, False, "green"),
        (True, "round", 2, False, "amber"),
        (True, "round", 0, True, "amber"),
        (False, "round", 0, False, "red"),
        # Recovered raw counts outrank the size-factor check, which guards only the rounding workaround.
        (False, "recover", None, False, "green"),
        # Whole numbers analysed as raw counts: said, in amber.
        (False, "raw", None, False, "amber"),
    ],
)
def test_verdict_levels(passed, method, unstable, approximate, level):
    from deseq2_normalized.verdict import run_verdict

    v = run_verdict(fake_result(passed, method, unstable, approximate))
    assert v.level == level
    assert v.reasons[0] == "the check's words"
    if level == "amber":
        rounded = method == "round"
        assert len(v.reasons) == 1 + rounded + bool(unstable) + approximate + (method == "raw")
        assert rounded == any("fell back to the rounding workaround: results approximate" in r for r in v.reasons)
