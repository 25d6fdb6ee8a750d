"""Faults: R failing late, unwritable or full output, a publish failing halfway, an interrupt.

The faults: R failing late, an output folder that cannot be written, a full disk, a publish that
fails halfway, an interrupt while writing. Each ends with a clear one-line error and its exit
code, and leaves no output file, no staging folder, and no earlier output lost.

Fits cost seconds: the write faults reuse one analysis result (``analysis.run_analysis`` is replaced
by a function returning it), so only the R-failure tests fit.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from deseq2_normalized import analysis, outputs, rbackend
from deseq2_normalized.analysis import run_analysis
from deseq2_normalized.errors import RError
from deseq2_normalized.reader import read_counts, read_samples
from run_files import run_files
from tables import SAMPLES, nb_counts, write_counts
from tables import sheet_text as default_sheet

# Raw counts, no plots, no report: the outputs of the runs here.
OUTPUT_NAMES = run_files("results_condition_B_vs_A", transformed=True, recovered=False, plots=False, report=False)


def write_inputs(
    folder: Path, values: np.ndarray, names: list[str] = SAMPLES, sheet_text: str | None = None
) -> tuple[Path, Path]:
    """Counts (genes g0, g1, ...) and a sample sheet (default: condition A for a*, B for b*)."""
    counts, sheet = write_counts(folder / "counts.tsv", values, names), folder / "samples.tsv"
    sheet.write_text(sheet_text or default_sheet(samples=names), encoding="utf-8")
    return counts, sheet


def small_values(n_genes: int = 200, seed: int = 11) -> np.ndarray:
    return nb_counts(n_genes, len(SAMPLES), seed)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return write_inputs(tmp_path_factory.mktemp("faults"), small_values())


@pytest.fixture(scope="module")
def result(inputs):
    """One real analysis, reused by the write-fault tests."""
    counts, sheet = inputs
    return run_analysis(read_counts(counts), read_samples(sheet), source=str(counts))


@pytest.fixture
def no_fit(monkeypatch, result):
    """``run`` skips the fit and writes the cached result."""
    monkeypatch.setattr(analysis, "run_analysis", lambda *args, **kwargs: result)


def run(cli_runner, inputs, out: Path, *extra: str):
    counts, sheet = inputs
    return cli_runner("run", "--counts", counts, "--samples", sheet, "--out-dir", out, "--quiet", *extra)


def error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


def everything_in(folder: Path) -> list[str]:
    """Every entry, hidden staging folders included."""
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# --- R failing late -----------------------------------------------------------------------------


@pytest.mark.r
def test_r_error_after_the_fit_leaves_nothing(tmp_path, cli, inputs, monkeypatch):
    """DESeq() ran; then an R call fails (injected): exit 1, R's message, no output."""
    fitted = []
    real_fit = rbackend.fit

    def fit(*args, **kwargs):
        fitted.append(True)
        return real_fit(*args, **kwargs)

    def broken(*args, **kwargs):
        raise RError("simulated failure after the fit: cannot allocate vector of size 7.5 Gb")

    monkeypatch.setattr(rbackend, "fit", fit)
    monkeypatch.setattr(rbackend, "dispersions", broken)
    out = tmp_path / "out"
    res = run(cli, inputs, out)
    assert fitted == [True]
    assert res.code == 1, res.err
    line = error_line(res.err)
    assert "DESeq2 failed in R: simulated failure after the fit: cannot allocate vector of size 7.5 Gb" in line
    assert everything_in(out) == []


@pytest.mark.r
def test_real_r_error_after_the_fit(tmp_path, cli):
    """A real late failure, with R's own message.

    DESeq() fits a design with an interaction, then lfcShrink(type="normal") refuses it.
    """
    names = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]
    values = nb_counts(300, len(names), 11)
    sheet_text = "sample\tcondition\tbatch\n" + "".join(f"{s}\t{s[0].upper()}\t{'xy'[int(s[1]) % 2]}\n" for s in names)
    counts, sheet = write_inputs(tmp_path, values, names, sheet_text)
    out = tmp_path / "out"
    res = cli(
        "run", "--counts", counts, "--samples", sheet, "--out-dir", out, "--design", "~ batch * condition",
        "--contrast", "condition,B,A", "--shrink", "normal",
    )  # fmt: skip
    assert res.code == 1, res.err
    assert "fitting 300 genes x 8 samples: done" in res.err  # it failed after DESeq()
    line = error_line(res.err)
    assert "DESeq2 failed in R: LFC shrinkage type='normal' not implemented for designs with interactions" in line
    assert everything_in(out) == []


@pytest.mark.r
def test_vst_falls_back_on_tables_with_few_expressed_genes(tmp_path, cli):
    """The full varianceStabilizingTransformation runs where vst() stops, as DESeq2 recommends.

    vst() stops when fewer than 1,000 genes have a mean count above 5.
    """
    rng = np.random.default_rng(3)
    n = 1100
    mean = np.where(np.arange(n) < 60, 200.0, 0.8)
    values = rng.poisson(mean[:, None] * np.ones((1, len(SAMPLES)))) + (np.arange(n)[:, None] % 3 == 0)
    counts, sheet = write_inputs(tmp_path, values)
    out = tmp_path / "out"
    res = cli("run", "--counts", counts, "--samples", sheet, "--out-dir", out, "--no-report", "--plots", "none")
    assert res.code == 0, res.err
    transformed = np.loadtxt(out / "transformed_counts.tsv", skiprows=1, usecols=range(1, 5))
    assert transformed.shape == (n, 4)
    assert np.isfinite(transformed).all()
    # Variance-stabilized values are on the log2 scale: the well-expressed genes sit near log2(200).
    assert 6.5 < transformed[:60].mean() < 8.5


# --- the output folder --------------------------------------------------------------------------


def test_output_folder_not_writable(r_unavailable, tmp_path, cli, inputs, monkeypatch):
    out = tmp_path / "locked"
    out.mkdir()
    if os.geteuid() == 0:
        # root writes through chmod 0o500: make the probe file fail as a real EACCES would.
        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out))

        monkeypatch.setattr(outputs.tempfile, "TemporaryFile", denied)
    else:
        out.chmod(0o500)
    try:
        res = run(cli, inputs, out)
    finally:
        out.chmod(0o700)
    assert res.code == 2, res.err
    line = error_line(res.err)
    assert f"{out}: output folder cannot be written (Permission denied)" in line
    assert "fitting" not in res.err
    assert everything_in(out) == []


def test_output_folder_is_a_file(r_unavailable, tmp_path, cli, inputs):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder\n")
    res = run(cli, inputs, blocker / "out")
    assert res.code == 2, res.err
    assert f"{blocker / 'out'}: output folder cannot be written (Not a directory)" in error_line(res.err)
    assert blocker.read_text() == "not a folder\n"


# --- writing ------------------------------------------------------------------------------------


@pytest.mark.r
def test_cached_result_writes_every_output(tmp_path, cli, inputs, no_fit):
    """The control of the fault tests below: without a fault the same run writes all outputs."""
    out = tmp_path / "out"
    res = run(cli, inputs, out)
    assert res.code == 0, res.err
    assert set(OUTPUT_NAMES) <= set(everything_in(out))
    assert not [name for name in everything_in(out) if name.startswith(".")]


@pytest.mark.r
def test_disk_full_mid_write(tmp_path, cli, inputs, no_fit, monkeypatch):
    written: list[str] = []
    real_write_table = outputs.write_table

    def write_table(frame, path, *args, **kwargs):
        if len(written) == 2:
            with open(path, "w") as fh:
                fh.write("gene_id\tbaseMean\n")  # a partial file, as a full disk leaves it
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write_table(frame, path, *args, **kwargs)
        written.append(Path(path).name)

    monkeypatch.setattr(outputs, "write_table", write_table)
    out = tmp_path / "out"
    res = run(cli, inputs, out)
    assert len(written) == 2
    assert res.code == 1, res.err
    line = error_line(res.err)
    assert f"{out}: writing outputs failed (No space left on device); no output was kept" in line
    assert everything_in(out) == []


@pytest.mark.r
def test_publish_failing_halfway_keeps_earlier_outputs(tmp_path, cli, inputs, no_fit, monkeypatch):
    """Files of an earlier run in the folder survive a publish that fails after moving some files."""
    out = tmp_path / "out"
    out.mkdir()
    earlier = {name: f"earlier {name}\n" for name in OUTPUT_NAMES[:3]}
    for name, text in earlier.items():
        (out / name).write_text(text)
    moves: list[str] = []
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).parent == out:  # a move into the output folder, not a backup into staging
            moves.append(Path(dst).name)
            if len(moves) == 3:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "replace", replace)
    res = run(cli, inputs, out)
    assert len(moves) >= 3  # three moves, then the put-backs of the rollback
    assert res.code == 1, res.err
    assert f"{out}: writing outputs failed (Input/output error); no output was kept" in error_line(res.err)
    assert everything_in(out) == sorted(earlier)
    assert {name: (out / name).read_text() for name in earlier} == earlier


@pytest.mark.r
def test_interrupt_while_writing(tmp_path, cli, inputs, no_fit, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_json", interrupted)
    out = tmp_path / "out"
    res = run(cli, inputs, out)
    assert res.code == 130, res.err
    assert "interrupted" in res.err
    assert everything_in(out) == []
