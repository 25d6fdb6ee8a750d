"""Hostile text is data: the R or shell code it carries is never run.

Gene IDs, sample names, column names, levels and option values that carry R or shell code
(``system("...")``, backticks, ``;``, ``$(...)``, quotes, line breaks) either come back verbatim
in the outputs or are refused with one input-error line, and the code they carry is never run
(a sentinel file would appear).

R fits cost seconds, so many hostile names share one run: one in-process run with an explicit
design, contrast and reference, one real process of the installed command with the default
design. Everything else stops before R.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import R_UNAVAILABLE
from tables import nb_counts


def payloads(sentinel: Path) -> dict[str, str]:
    """Code that would create ``sentinel`` if R or a shell ever ran it."""
    s = str(sentinel)
    return {
        "r_call": f'system("touch {s}")',
        "r_string_break": f'x"); system("touch {s}"); ("',
        "backticks": f"`touch {s}`",
        "shell_semicolon": f"; touch {s}",
        "shell_subst": f"$(touch {s})",
        "quotes": f"'q\"uote'; system('touch {s}')",
        "newline": f"line\nbreak; system('touch {s}')",
    }


class Hostile:
    """A small data set whose every name carries code, written into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sentinel = folder / "PWNED"
        p = payloads(self.sentinel)
        s = str(self.sentinel)
        self.samples = [f"s{i}{text}" for i, text in enumerate(p.values(), start=1)] + ["s8"]
        self.genes = [f"g{i}{text}" for i, text in enumerate(p.values(), start=1)]
        self.genes += [f"gene{i}" for i in range(193)]
        # Column names used in the design through backticks (they hold none) and levels.
        self.batch = f'batch"); system("touch {s}"); ("'
        self.condition = f"cond $(touch {s}); touch {s} 'q'"
        self.batch_levels = [f"b1 system('touch {s}')", f'b2\'; system("touch {s}")']
        self.ctl = f"ctl; touch {s}"
        self.trt = f'trt$(touch {s})\n"q"'
        # A design column whose name holds backticks: usable only as the default design.
        self.backtick_column = f"cond`touch {s}`"

        values = nb_counts(len(self.genes), len(self.samples), 6)
        self.counts = folder / "counts.tsv"
        rows = ([g, *row] for g, row in zip(self.genes, values.tolist(), strict=True))
        self._write(self.counts, ["gene", *self.samples], rows)
        conditions = [self.ctl] * 4 + [self.trt] * 4
        batches = self.batch_levels * 4
        self.sheet = folder / "samples.tsv"
        self._write(
            self.sheet,
            ["sample", self.batch, self.condition, self.backtick_column],
            ([s, b, c, c] for s, b, c in zip(self.samples, batches, conditions, strict=True)),
        )

    @staticmethod
    def _write(path: Path, header: list[str], rows) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Hostile:
    return Hostile(tmp_path_factory.mktemp("hostile"))


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if "error:" in line]


@pytest.mark.r
def test_the_payloads_are_live(tmp_path):
    """Proof that the sentinel works: run by a shell or by R, the payloads do create it."""
    sentinel = tmp_path / "PWNED"
    p = payloads(sentinel)
    subprocess.run(["sh", "-c", f"echo {p['shell_subst']}"], check=True, capture_output=True)
    assert sentinel.exists()
    sentinel.unlink()
    subprocess.run(["Rscript", "-e", p["r_call"]], check=True, capture_output=True)
    assert sentinel.exists()


@pytest.mark.r
def test_hostile_names_in_a_real_analysis(tmp_path, hostile, cli):
    """Explicit design over backtick-quoted hostile columns, hostile --contrast and --reference."""
    out = tmp_path / "out"
    design = f"~ `{hostile.batch}` + `{hostile.condition}`"
    run = cli(
        "run", "--counts", hostile.counts, "--samples", hostile.sheet, "--out-dir", out,
        "--design", design,
        "--contrast", f"{hostile.condition},{hostile.trt},{hostile.ctl}",
        "--reference", hostile.ctl,
        "--transform", "vst",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert not hostile.sentinel.exists()
    assert error_lines(run.err) == []

    (results,) = out.glob("results_*.tsv")
    assert set(read_tsv(results)["gene_id"]) == set(hostile.genes)
    assert list(read_tsv(out / "size_factors.tsv")["sample"]) == hostile.samples
    normalized = read_tsv(out / "normalized_counts.tsv")
    assert list(normalized.columns) == ["gene_id", *hostile.samples]
    assert list(normalized["gene_id"]) == hostile.genes
    assert list(read_tsv(out / "transformed_counts.tsv").columns)[1:] == hostile.samples

    diagnostics = json.loads((out / "diagnostics.json").read_text(encoding="utf-8"))
    (contrast,) = diagnostics["contrasts"]
    assert (contrast["factor"], contrast["numerator"], contrast["denominator"]) == (
        hostile.condition,
        hostile.trt,
        hostile.ctl,
    )
    assert diagnostics["design"] == design
    assert diagnostics["options"]["reference"] == hostile.ctl
    # One line per log record, although names hold line breaks.
    assert all(line.startswith("deseq2-normalized: ") for line in run.err.splitlines())


@pytest.mark.r
def test_hostile_names_through_the_installed_command(tmp_path, hostile):
    """A real process; the default design is the last column, whose name holds backticks."""
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("deseq2-normalized")
    proc = subprocess.run(
        [
            str(exe), "run", "--counts", str(hostile.counts), "--samples", str(hostile.sheet),
            "--out-dir", str(out), "--reference", hostile.ctl, "--transform", "none",
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not hostile.sentinel.exists()
    assert proc.stdout == ""
    diagnostics = json.loads((out / "diagnostics.json").read_text(encoding="utf-8"))
    assert diagnostics["design"] == f"~ `{hostile.backtick_column}`"
    (contrast,) = diagnostics["contrasts"]
    assert (contrast["factor"], contrast["numerator"], contrast["denominator"]) == (
        hostile.backtick_column,
        hostile.trt,
        hostile.ctl,
    )
    (results,) = out.glob("results_*.tsv")
    assert set(read_tsv(results)["gene_id"]) == set(hostile.genes)
    assert list(read_tsv(out / "size_factors.tsv")["sample"]) == hostile.samples

    check = subprocess.run(
        [str(exe), "check", "--counts", str(hostile.counts), "--samples", str(hostile.sheet)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert not hostile.sentinel.exists()


def refusals(h: Hostile) -> dict[str, tuple[list[str], str]]:
    """Options that carry code where code is not legal: extra arguments and the message they get."""
    s = str(h.sentinel)
    return {
        "design_r_call": (["--design", f'~ `{h.batch}` + system("touch {s}")'], "unexpected character '('"),
        "design_semicolon": (["--design", f"~ `{h.condition}`; system('touch {s}')"], "unexpected character ';'"),
        "design_shell_subst": (["--design", f"~ $(touch {s})"], "unexpected character '$'"),
        "design_backtick_name_not_a_column": (["--design", f"~ `touch {s}`"], "is not a sample-sheet column"),
        "design_newline": (["--design", f"~ `{h.condition}`\n+ system('touch {s}')"], "unexpected character '('"),
        "reduced_r_call": (
            ["--design", f"~ `{h.batch}` + `{h.condition}`", "--test", "lrt", "--reduced", f'~ 1; system("touch {s}")'],
            "unexpected character ';'",
        ),
        "contrast_level_is_code": (
            ["--design", f"~ `{h.condition}`", "--contrast", f'{h.condition},system("touch {s}"),{h.ctl}'],
            "is not a level of",
        ),
        "contrast_factor_is_code": (["--contrast", f"$(touch {s}),a,b"], "is not in the design"),
        "reference_is_code": (["--reference", f"$(touch {s})"], "is not a level of"),
    }


#: The refusals' names, read from refusals() itself (the values do not matter for the names).
REFUSALS = tuple(refusals(SimpleNamespace(sentinel="", batch="", condition="", ctl="")))  # type: ignore[arg-type]


def test_the_hostile_files_pass_every_check_before_r(tmp_path, hostile, cli, r_unavailable):
    """The control of the refusals below: the files are good, each refusal is its option's.

    With R unavailable, ``run`` on the hostile files gets past reading, validation, the check and
    the design (the last column, whose name holds backticks) and stops only where R is needed.
    """
    out = tmp_path / "out"
    run = cli("run", "--counts", hostile.counts, "--samples", hostile.sheet, "--out-dir", out,
              "--reference", hostile.ctl)  # fmt: skip
    assert run.code == 1, run.err
    (line,) = error_lines(run.err)
    assert R_UNAVAILABLE in line
    assert "checking: done in" in run.err
    assert not hostile.sentinel.exists()
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("name", REFUSALS)
def test_code_in_options_is_refused(r_unavailable, tmp_path, hostile, cli, name):
    extra, message = refusals(hostile)[name]
    out = tmp_path / "out"
    run = cli("run", "--counts", hostile.counts, "--samples", hostile.sheet, "--out-dir", out, *extra)
    assert run.code == 2, run.err
    (line,) = error_lines(run.err)
    assert message in line
    assert "fitting" not in run.err
    assert not hostile.sentinel.exists()
    assert list(out.iterdir()) == []
