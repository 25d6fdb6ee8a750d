"""``deseq2-normalized recover``: the recovered raw counts as a file, or exit 2 and no file.

The tables are made from the bundled pasilla raw counts divided by the size factors DESeq2
estimated on them (``test-data/pasilla_size_factors.tsv``), written as R and others write them;
the truth is the raw counts file itself.
"""

from __future__ import annotations

import errno
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import recovered_counts
from deseq2_normalized.classify import Classification
from deseq2_normalized.errors import InputError
from deseq2_normalized.interface import GALAXY_LABELS
from deseq2_normalized.reader import read_counts
from deseq2_normalized.recovery import recover_counts
from tables import significant

ERROR = "deseq2-normalized: error: "


@pytest.fixture(scope="module")
def raw(raw_path) -> pd.DataFrame:
    return read_counts(raw_path)


@pytest.fixture(scope="module")
def normalized(raw, original_sf) -> pd.DataFrame:
    """The raw counts divided by DESeq2's size factors: ``counts(dds, normalized=TRUE)``."""
    return raw / original_sf[raw.columns]


def write(folder: Path, name: str, table: pd.DataFrame, float_format: str | None) -> Path:
    path = folder / name
    table.to_csv(path, sep="\t", float_format=float_format)
    return path


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files a recovery left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(ERROR)]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0].removeprefix(ERROR)


@pytest.mark.parametrize(
    ("form", "float_format"),
    [("write.table, 15 significant digits", "%.15g"), ("full double precision", None), ("2 decimals", "%.2f")],
)
def test_recovered_counts_are_the_raw_counts_byte_for_byte(tmp_path, cli, normalized, raw_path, form, float_format):
    table = write(tmp_path, "normalized.tsv", normalized, float_format)
    out = tmp_path / "recovered.tsv"
    run = cli("recover", "--counts", table, "--out", out)
    assert run.code == 0, run.err
    # gene_id, then every sample; every gene in input order; the integers as the raw counts file writes them.
    assert out.read_bytes() == raw_path.read_bytes(), form
    assert run.out == ""  # stdout stays clean: verdicts and progress go to stderr
    assert "raw counts recovered exactly from the table (DESeq2 median-of-ratios)" in run.err
    assert "table kind: scaled counts (DESeq2 median-of-ratios)" in run.err
    assert f"recovered counts of 14599 genes x 7 samples written to {out}" in run.err
    assert leftovers(tmp_path) == []


def test_bounded_samples_get_the_midpoint_counts(tmp_path, cli, normalized, raw):
    # At 6 significant digits a few large counts are not fixed by the digits: bounded, the midpoint is used.
    table = write(tmp_path, "sig6.tsv", normalized, "%.6g")
    out = tmp_path / "recovered.tsv"
    run = cli("recover", "--counts", table, "--out", out)
    assert run.code == 0, run.err
    expected = recover_counts(read_counts(table))
    verdicts = {s.verdict for s in expected.samples}
    assert "bounded" in verdicts and verdicts <= {"exact", "bounded"}
    assert "bounded" in run.err
    written = pd.read_csv(out, sep="\t", index_col=0)
    assert written.index.name == "gene_id" and list(written.index) == list(raw.index)
    assert written.dtypes.map(lambda d: d.kind).eq("i").all()
    pd.testing.assert_frame_equal(written, expected.counts, check_names=False)
    truth, got = raw.to_numpy(), written.to_numpy()
    bound = np.array([s.max_relative_uncertainty for s in expected.samples])
    assert np.all(np.abs(got - truth) <= bound * got + 0.5)  # within the stated bound, to the nearest count
    assert (got == truth).mean() > 0.9999


def test_sample_sheet_selects_the_samples(tmp_path, cli, normalized, raw):
    table = write(tmp_path, "normalized.tsv", normalized, "%.15g")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tcondition\ntreated2\tt\nuntreated1\tu\nuntreated3\tu\n")
    out = tmp_path / "recovered.tsv"
    run = cli("recover", "--counts", table, "--samples", sheet, "--out", out)
    assert run.code == 0, run.err
    written = pd.read_csv(out, sep="\t", index_col=0)
    assert sorted(written.columns) == ["treated2", "untreated1", "untreated3"]
    pd.testing.assert_frame_equal(written, raw[written.columns].astype(np.int64), check_names=False)


@pytest.mark.parametrize(
    ("name", "make", "cause"),
    [
        (
            "4 significant digits",
            lambda n, r: significant(n, 4),
            "raw counts cannot be recovered exactly (scaled counts, unknown per-sample scaling): not every sample "
            "is exact or bounded; 'deseq2-normalized run' analyses the table with each open count at its midpoint: "
            "every sample's unit found (unknown per-sample scaling), but the written digits leave 1.8% to 19.6% of "
            "the counts open: untreated1: not_recoverable (7.3% of the counts are not determined by values written "
            "at 4 significant digits",
        ),
        (
            "noise",
            lambda n, r: n * np.exp(np.random.default_rng(3).normal(0, 0.01, n.shape)),
            "raw counts cannot be recovered (normalized, but the raw counts cannot be recovered: gene-specific "
            "normalization factors or non-integer counts): not every sample is exact or bounded: "
            "untreated1: not_recoverable (",
        ),
        ("raw counts", lambda n, r: r, "every value is a whole number: these look like raw counts already"),
        (
            "estimated counts",
            lambda n, r: r + np.where(r > 0, np.random.default_rng(4).uniform(0.01, 0.49, r.shape), 0.0),
            "the table holds estimated counts (non-integer, not normalized): there are no raw counts behind it",
        ),
        ("log2(x+1)", lambda n, r: np.log2(n + 1), "this is a log-scale table (log2(x+1) of DESeq2 median-of-ratios)"),
        ("negative", lambda n, r: n - n.mean(axis=1).to_numpy()[:, None], "negative value"),
    ],
)
def test_tables_without_recoverable_counts_stop_with_exit_2_and_no_file(
    tmp_path, cli, normalized, raw, name, make, cause
):
    table = write(tmp_path, "table.tsv", make(normalized, raw), "%.15g")
    out = tmp_path / "recovered.tsv"
    run = cli("recover", "--counts", table, "--out", out, "--quiet")
    assert run.code == 2, name
    assert cause in one_error_line(run.err), run.err
    assert one_error_line(run.err).startswith(f"{table}: ")
    assert not out.exists() and leftovers(tmp_path) == []
    assert run.out == ""


def test_four_digits_name_the_samples_and_why(tmp_path, cli, normalized):
    table = write(tmp_path, "sig4.tsv", normalized.map(lambda x: float(f"{x:.4g}")), None)
    run = cli("recover", "--counts", table, "--out", tmp_path / "recovered.tsv", "--quiet")
    line = one_error_line(run.err)
    failing = [s for s in recover_counts(read_counts(table)).samples if not s.usable]
    assert failing and all(f"{s.sample}: {s.verdict} ({s.reason[:40]}" in line for s in failing[:5])


def test_approximate_samples_are_refused_by_name(normalized):
    # A tighter bound than the written digits allow turns bounded samples approximate: no counts then.
    table = normalized.map(lambda x: float(f"{x:.6g}"))
    recovery = recover_counts(table, max_relative_uncertainty=1e-7)
    approximate = [s.sample for s in recovery.samples if s.verdict == "approximate"]
    assert approximate and not recovery.usable
    kind = Classification("scaled_counts", "DESeq2 median-of-ratios", (), "", "round", recovery)
    with pytest.raises(InputError) as refused:
        recovered_counts.recovered_counts(kind, "sig6.tsv")
    message = str(refused.value)
    assert message.startswith(
        "sig6.tsv: raw counts cannot be recovered exactly (scaled counts, DESeq2 median-of-ratios): not every sample "
        "is exact or bounded; 'deseq2-normalized run' analyses the table with each open count at its midpoint: "
    )
    assert f"{approximate[0]}: approximate (" in message


def test_a_failed_recovery_keeps_an_earlier_file(tmp_path, cli, raw_path):
    out = tmp_path / "recovered.tsv"
    out.write_text("earlier\n")
    run = cli("recover", "--counts", raw_path, "--out", out, "--quiet")
    assert run.code == 2 and out.read_text() == "earlier\n"


def test_output_path_is_checked_before_reading(tmp_path, cli):
    # The counts file does not exist either: the output's folder is named first.
    missing = cli("recover", "--counts", tmp_path / "none.tsv", "--out", tmp_path / "no" / "x.tsv")
    assert missing.code == 2 and f"folder '{tmp_path / 'no'}' does not exist" in one_error_line(missing.err)
    folder = cli("recover", "--counts", tmp_path / "none.tsv", "--out", tmp_path)
    assert folder.code == 2 and "is a folder" in one_error_line(folder.err)


def test_a_write_failure_leaves_nothing(tmp_path, cli, normalized, monkeypatch):
    table = write(tmp_path, "normalized.tsv", normalized, "%.15g")
    out = tmp_path / "recovered.tsv"

    def full_disk(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(recovered_counts.os, "replace", full_disk)
    run = cli("recover", "--counts", table, "--out", out, "--quiet")
    assert run.code == 1
    assert "writing the recovered counts failed (No space left on device); nothing was written" in one_error_line(
        run.err
    )
    assert not out.exists() and leftovers(tmp_path) == []


def test_messages_name_the_counts_as_told(tmp_path, cli, raw_path):
    # Galaxy passes the dataset's name: the message names it, not the job's file path.
    run = cli("recover", "--counts", raw_path, "--counts-name", "raw.tabular", "--out", tmp_path / "x.tsv",
              "--interface", "galaxy", "--quiet")  # fmt: skip
    assert run.code == 2 and one_error_line(run.err).startswith("raw.tabular: every value is a whole number")


def test_galaxy_tool_form_matches_the_messages_and_the_harness():
    root_dir = Path(__file__).resolve().parent.parent
    tool = ET.parse(root_dir / "tool" / "recover_counts.xml").getroot()
    assert tool.get("id") == "deseq2_normalized_recover"
    assert tool.get("version") == "@TOOL_VERSION@+galaxy@VERSION_SUFFIX@"
    assert {e.get("macro") for e in tool.iter("expand")} >= {"requirements", "citations", "edam", "xrefs"}
    params = {p.get("argument"): p.get("label") for p in tool.iter("param") if p.get("argument")}
    # Messages name --counts and --samples by the form's labels (interface.GALAXY_LABELS): the same here.
    assert params == {flag: GALAXY_LABELS[flag] for flag in ("--counts", "--samples")}
    panel = ET.parse(root_dir / "galaxy" / "tool_conf.xml").getroot()
    listed = sorted(t.get("file") for t in panel.iter("tool"))
    assert listed == sorted(p.name for p in (root_dir / "tool").glob("*.xml") if p.name != "macros.xml")
    harness = (root_dir / "galaxy" / "harness.py").read_text()
    assert '"deseq2_normalized_recover": ROOT / "tool" / "recover_counts.xml"' in harness
