"""The command line end to end: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized.reader import read_counts
from run_files import run_files
from tables import counts_text, nb_counts, sheet_text, unexplained_table

RESULT_COLUMNS = ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]


@pytest.fixture(scope="module")
def small(tmp_path_factory, normalized_path, samples_path) -> tuple[Path, Path]:
    """The first 3,000 pasilla genes (DESeq2-normalized) and the sample sheet."""
    folder = tmp_path_factory.mktemp("small")
    counts = read_counts(normalized_path).iloc[:3000]
    counts_path = folder / "counts.tsv"
    counts.to_csv(counts_path, sep="\t")
    return counts_path, samples_path


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, normalized_path, samples_path):
    from deseq2_normalized.cli import main

    out = tmp_path_factory.mktemp("run")
    code = main(
        [
            "run",
            "--counts",
            str(normalized_path),
            "--samples",
            str(samples_path),
            "--out-dir",
            str(out),
            "--design",
            "~ type + condition",
            "--reference",
            "untreated",
            "--save-rds",
            "--quiet",
        ]
    )
    assert code == 0
    return out


@pytest.mark.r
def test_run_writes_every_output(demo_run):
    names = sorted(p.name for p in demo_run.iterdir())
    assert names == run_files("results_condition_treated_vs_untreated", transformed=True, model=True)


@pytest.mark.r
def test_results_table(demo_run):
    res = pd.read_csv(demo_run / "results_condition_treated_vs_untreated.tsv", sep="\t", keep_default_na=False)
    assert list(res.columns) == RESULT_COLUMNS
    assert len(res) == 14599
    padj = pd.to_numeric(res["padj"].replace("NA", np.nan))
    n = padj.notna().sum()
    assert padj.iloc[:n].is_monotonic_increasing and padj.iloc[n:].isna().all()
    assert (res["padj"] == "NA").sum() == len(res) - n > 0
    # The pasilla knock-down target itself is the strongest call.
    assert res.loc[0, "gene_id"] == "FBgn0261552" or "FBgn0261552" in set(res.loc[:20, "gene_id"])


@pytest.mark.r
def test_normalized_counts_are_the_input_after_recovery(demo_run, normalized_path):
    # The default (auto) recovers the raw counts: DESeq2's normalized counts are then the table given.
    written = pd.read_csv(demo_run / "normalized_counts.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(written.to_numpy(), read_counts(normalized_path).to_numpy(), rtol=1e-12)


@pytest.mark.r
def test_run_writes_the_recovered_counts(demo_run, raw_path):
    # The counts were recovered: the same matrix as 'deseq2-normalized recover', i.e. the true raw counts.
    assert (demo_run / "recovered_counts.tsv").read_bytes() == raw_path.read_bytes()


@pytest.mark.r
def test_rounding_method_writes_the_rounded_input(tmp_path, small, cli):
    counts, samples = small
    run = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path, "--transform", "none",
              "--method", "round", "--no-report", "--plots", "none")  # fmt: skip
    assert run.code == 0 and "method: round (requested" in run.err
    written = pd.read_csv(tmp_path / "normalized_counts.tsv", sep="\t", index_col=0)
    np.testing.assert_array_equal(written.to_numpy(), np.rint(read_counts(counts).to_numpy()))
    assert written.dtypes.map(lambda d: d.kind).eq("i").all()
    assert not (tmp_path / "recovered_counts.tsv").exists()  # nothing was recovered
    method = json.loads((tmp_path / "diagnostics.json").read_text())["method"]
    assert method["size_factors"]["source"] == "fixed at 1"
    assert set(method["size_factors"]["values"].values()) == {1.0}


@pytest.mark.r
def test_size_factors_and_diagnostics(demo_run, raw_path):
    sf = pd.read_csv(demo_run / "size_factors.tsv", sep="\t")
    assert list(sf.columns) == [
        "sample",
        "size_factor",
        "relative_size_factor",
        "within_tolerance",
        "recovered_size_factor",
    ]
    assert sf["within_tolerance"].all()
    np.testing.assert_allclose(np.exp(np.log(sf["relative_size_factor"]).mean()), 1.0)
    original = pd.read_csv(raw_path.parent / "pasilla_size_factors.tsv", sep="\t", index_col=0)["size_factor"]
    np.testing.assert_allclose(sf.set_index("sample")["recovered_size_factor"][original.index], original, rtol=1e-9)
    diag = json.loads((demo_run / "diagnostics.json").read_text())
    assert diag["method"]["name"] == "recover" and diag["method"]["requested"] == "auto"
    assert diag["method"]["size_factors"]["source"] == "estimated"
    used = pd.Series(diag["method"]["size_factors"]["values"])[original.index]
    np.testing.assert_allclose(used, original, rtol=1e-9)
    assert diag["input"]["genes"] == 14599 and diag["input"]["samples"] == 7
    assert diag["size_factor_check"]["passed"] is True and diag["size_factor_check"]["tolerance"] == 0.1
    (contrast,) = diag["contrasts"]
    assert contrast["numerator"] == "treated" and contrast["denominator"] == "untreated"
    assert contrast["up"] > 100 and contrast["down"] > 100
    assert diag["versions"]["DESeq2"] == "1.38.3" and "rpy2" in diag["versions"]


@pytest.mark.r
def test_transformed_counts_are_vst(demo_run):
    tr = pd.read_csv(demo_run / "transformed_counts.tsv", sep="\t", index_col=0)
    assert tr.shape == (14599, 7)
    assert 3 < tr.to_numpy().min() < tr.to_numpy().max() < 25


@pytest.mark.r
def test_group_mode_equals_sample_sheet_mode(tmp_path, small, cli):
    counts, samples = small
    a = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path / "a", "--reference", "untreated",
            "--transform", "none")  # fmt: skip
    b = cli("run", "--counts", counts, "--group", "treated=6,7,8", "--group", "untreated=2,3,4,5", "--out-dir",
            tmp_path / "b", "--transform", "none")  # fmt: skip
    assert a.code == b.code == 0
    name = "results_condition_treated_vs_untreated.tsv"
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "a" / name, sep="\t"), pd.read_csv(tmp_path / "b" / name, sep="\t")
    )


@pytest.mark.r
def test_progress_on_stderr_and_clean_stdout(tmp_path, small, cli):
    counts, samples = small
    run = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path, "--transform", "none")
    assert run.code == 0
    assert run.out == ""
    for stage in ("reading", "checking", "fitting 3000 genes x 7 samples", "writing"):
        assert f"{stage}: done in" in run.err


def test_check_command(tmp_path, normalized_path, raw_path, samples_path, cli):
    ok = cli("check", "--counts", normalized_path, "--samples", samples_path, "--json", tmp_path / "c.json")
    assert ok.code == 0 and ok.out.startswith("raw counts recovered exactly from the table (DESeq2 median-of-ratios)")
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["size_factor_check"]["passed"] is True and record["default_method"] == "recover"
    raw = cli("check", "--counts", raw_path, "--strict")
    # Raw counts are analysed as such by default: the size-factor check does not apply, strict or not.
    assert raw.code == 0 and raw.out.startswith("the table holds whole numbers: raw counts")
    assert "size-factor check failed" in raw.out


def test_check_strict_fails_when_the_table_would_be_rounded(tmp_path, normalized_path, cli):
    path = unexplained_table(normalized_path, tmp_path / "noisy.tsv")
    loose = cli("check", "--counts", path, "--json", tmp_path / "c.json")
    assert loose.code == 0 and loose.out.startswith("size-factor check FAILED") and "treated1" in loose.out
    assert "run stops here (exit 1)" in loose.out and "Nothing explains the table" in loose.out
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["default_method"] == "stop" and record["classification"]["kind"] == "not_recoverable"
    assert cli("check", "--counts", path, "--strict").code == 1


def test_strict_run_stops_before_fitting(r_unavailable, tmp_path, raw_path, samples_path, cli):
    run = cli("run", "--counts", raw_path, "--samples", samples_path, "--out-dir", tmp_path / "o", "--strict",
              "--method", "round")  # fmt: skip
    assert run.code == 1
    assert "size-factor check FAILED" in run.err
    assert "fitting" not in run.err
    assert list((tmp_path / "o").iterdir()) == []


@pytest.mark.r
def test_rounding_raw_counts_on_request_warns_loudly_but_runs(tmp_path, raw_path, samples_path, cli):
    run = cli("run", "--counts", raw_path, "--samples", samples_path, "--out-dir", tmp_path, "--transform", "none",
              "--method", "round")  # fmt: skip
    assert run.code == 0
    assert "size-factor check FAILED" in run.err and "looks like raw counts" in run.err


@pytest.mark.r
def test_raw_counts_get_standard_deseq2_by_default(tmp_path, raw_path, samples_path, cli):
    run = cli(
        "run", "--counts", raw_path, "--samples", samples_path, "--out-dir", tmp_path, "--transform", "none", "--strict"
    )
    assert run.code == 0, run.err
    assert "method: raw counts (auto:" in run.err and "size factors estimated by DESeq2" in run.err
    assert "FAILED" not in run.err
    method = json.loads((tmp_path / "diagnostics.json").read_text())["method"]
    assert method["name"] == "raw" and method["size_factors"]["source"] == "estimated"
    assert not (tmp_path / "recovered_counts.tsv").exists()
    used = pd.Series(method["size_factors"]["values"])
    expected = pd.read_csv(raw_path.parent / "pasilla_size_factors.tsv", sep="\t", index_col=0)["size_factor"]
    np.testing.assert_allclose(used[expected.index], expected, rtol=1e-9)


@pytest.mark.r
def test_version(cli):
    run = cli("--version")
    assert run.code == 0
    assert run.out.startswith("deseq2-normalized 0.1.0 (DESeq2 1.38.3, R 4.2.2")


@pytest.mark.r
def test_version_reads_deseq2s_version_without_loading_it() -> None:
    """Galaxy runs ``--version`` before every job: it starts R but does not load DESeq2 (seconds)."""
    code = (
        "from deseq2_normalized.cli import main\n"
        "assert main(['--version']) == 0\n"
        "import rpy2.robjects as ro\n"
        "print('DESeq2 loaded:', ro.r('isNamespaceLoaded(\"DESeq2\")')[0])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("deseq2-normalized 0.1.0 (DESeq2 1.38.3, R 4.2.2"), proc.stdout
    assert proc.stdout.splitlines()[-1] == "DESeq2 loaded: False", proc.stdout


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _simulated_counts(genes: int = 300, seed: int = 7) -> str:
    """Negative-binomial counts for samples a1 a2 (A) and b1 b2 (B); g0 is 2 1 3 ... in a1 a2 b1."""
    values = nb_counts(genes, 4, seed, log_mean=(1, 8), plus_one=False)
    values[0, :3] = [2, 1, 3]
    return counts_text(values)


GOOD_COUNTS = _simulated_counts()
GOOD_SHEET = sheet_text()


@pytest.mark.parametrize(
    ("counts", "sheet", "extra", "code", "message"),
    [
        pytest.param(
            GOOD_COUNTS.replace("\t3\t", "\tthree\t", 1),
            GOOD_SHEET,
            [],
            2,
            "row 1 (gene 'g0'), column 'b1': 'three' is not a number",
            id="not_a_number",
        ),
        pytest.param(
            GOOD_COUNTS.replace("\t3\t", "\t-3\t", 1),
            GOOD_SHEET,
            [],
            2,
            "column 'b1': negative value -3",
            id="negative",
        ),
        pytest.param(
            GOOD_COUNTS.replace("\t3\t", "\tNA\t", 1), GOOD_SHEET, [], 2, "column 'b1': missing value", id="missing"
        ),
        pytest.param(
            GOOD_COUNTS.replace("g1\t", "g0\t", 1),
            GOOD_SHEET,
            [],
            2,
            "row 2: gene ID 'g0' is duplicated",
            id="dup_gene",
        ),
        pytest.param(
            GOOD_COUNTS.replace("b2", "b1", 1), GOOD_SHEET, [], 2, "sample name 'b1' is duplicated", id="dup_sample"
        ),
        pytest.param(
            GOOD_COUNTS,
            "sample\tcondition\nb2\tB\n",
            [],
            2,
            "1 sample column(s); DESeq2 needs at least two samples",
            id="one_sample",
        ),
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET,
            ["--design", "~ genotype"],
            2,
            "'genotype' is not a sample-sheet column",
            id="design_unknown_column",
        ),
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET,
            ["--design", '~ condition + system("touch pwned")'],
            2,
            "unexpected character '('",
            id="design_r_code",
        ),
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET.replace("\tB\n", "\tA\n"),
            [],
            2,
            "factor 'condition' has a single level ('A')",
            id="single_level",
        ),
        pytest.param("", GOOD_SHEET, [], 2, "file is empty", id="empty_file"),
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET,
            ["--contrast", "condition,B,C"],
            2,
            "'C' is not a level of 'condition'",
            id="contrast_unknown_level",
        ),
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET,
            ["--reference", "Z"],
            2,
            "--reference 'Z' is not a level of 'condition'",
            id="reference_unknown_level",
        ),
        pytest.param(GOOD_COUNTS, GOOD_SHEET, ["--test", "lrt"], 2, "--test lrt needs --reduced", id="lrt_no_reduced"),
        # Whether apeglm is installed is R's to say.
        pytest.param(
            GOOD_COUNTS,
            GOOD_SHEET,
            ["--shrink", "apeglm"],
            2,
            "needs the R package 'apeglm'",
            id="shrink_package_missing",
            marks=pytest.mark.r,
        ),
        pytest.param(
            GOOD_COUNTS, GOOD_SHEET, ["--alpha", "2"], 2, "--alpha must lie between 0 and 1", id="alpha_out_of_range"
        ),
        pytest.param(
            GOOD_COUNTS, GOOD_SHEET, ["--fit-type", "magic"], 2, "invalid choice: 'magic'", id="fit_type_unknown"
        ),
        # DESeq2 itself refuses the design, in R.
        pytest.param(
            GOOD_COUNTS,
            "sample\tcondition\textra\na1\tA\tx\na2\tA\tx\nb1\tB\ty\nb2\tB\ty\n",
            ["--design", "~ extra + condition"],
            1,
            "DESeq2 failed in R: the model matrix is not full rank",
            id="design_not_full_rank",
            marks=pytest.mark.r,
        ),
        pytest.param(
            GOOD_COUNTS,
            "sample\tcondition\na1\tA\na2\tB\nb1\tC\nb2\tD\n",
            [],
            2,
            "sample sheet: 4 samples for the 4 coefficients of the design ~ condition",
            id="no_replicates",
        ),
    ],
)
def test_bad_input(request, tmp_path, cli, counts, sheet, extra, code, message):
    if request.node.get_closest_marker("r") is None:
        # Refused before R: the case must pass with R unavailable.
        request.getfixturevalue("r_unavailable")
    out = tmp_path / "out"
    run = cli("run", "--counts", write(tmp_path, "c.tsv", counts), "--samples", write(tmp_path, "s.tsv", sheet),
              "--out-dir", out, "--transform", "none", *extra)  # fmt: skip
    assert run.code == code, run.err
    errors = [line for line in run.err.splitlines() if "error:" in line]
    assert len(errors) == 1, run.err
    assert message in errors[0]
    assert "Traceback" not in run.err
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.r
def test_design_with_r_code_is_not_executed(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sheet = 'sample\tcondition\tx"); system("touch pwned\n' + "".join(
        f"{s}\t{c}\t{b}\n" for s, c, b in [("a1", "A", "1"), ("a2", "A", "2"), ("b1", "B", "1"), ("b2", "B", "2")]
    )
    run = cli("run", "--counts", write(tmp_path, "c.tsv", GOOD_COUNTS), "--samples", write(tmp_path, "s.tsv", sheet),
              "--out-dir", tmp_path / "out", "--transform", "none", "--design",
              '~ `x"); system("touch pwned` + condition')  # fmt: skip
    assert run.code == 0, run.err
    assert not (tmp_path / "pwned").exists()
    assert (tmp_path / "out" / "results_condition_B_vs_A.tsv").exists()


@pytest.mark.r
def test_r_warnings_reach_the_log(tmp_path, small, cli):
    counts, samples = small
    run = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path, "--transform", "none",
              "--fit-type", "glmGamPoi")  # fmt: skip
    assert run.code == 0
    # DESeq2 warns that glmGamPoi goes with the LRT; the warning is logged, not lost or printed raw.
    assert "R warning: glmGamPoi dispersion estimator should be used in combination with a LRT" in run.err


@pytest.mark.r
def test_threads_change_nothing(tmp_path, small, cli):
    counts, samples = small
    one = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path / "one", "--transform", "none")
    two = cli("run", "--counts", counts, "--samples", samples, "--out-dir", tmp_path / "two", "--transform", "none",
              "--threads", "2")  # fmt: skip
    assert one.code == two.code == 0
    name = "results_condition_untreated_vs_treated.tsv"
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "one" / name, sep="\t"), pd.read_csv(tmp_path / "two" / name, sep="\t")
    )


def test_check_names_the_kind_of_table(tmp_path, normalized_path, cli):
    ok = cli("check", "--counts", normalized_path)
    assert "table kind: scaled counts (DESeq2 median-of-ratios)" in ok.out
    assert "recommendation: the default --method auto (or --method recover) runs DESeq2 on the recovered" in ok.out
    values = pd.read_csv(normalized_path, sep="\t", index_col=0)
    centred = np.log2(values + 1)
    centred = centred.sub(centred.mean(axis=1), axis=0)
    path = tmp_path / "centred.tsv"
    centred.to_csv(path, sep="\t")
    bad = cli("check", "--counts", path)
    assert bad.code == 2
    assert "table kind: not counts (values below zero)" in bad.out
    assert "values below zero; this is not a table of counts" in bad.err
