"""Shared fixtures: test-data paths and an in-process CLI runner."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from deseq2_normalized.cli import main

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "test-data"
R_SCRIPTS = Path(__file__).resolve().parent / "r"


@dataclass
class CliRun:
    """Exit code and captured streams of one CLI call."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``deseq2-normalized`` in this process (one R session for the whole test run)."""

    def run(*args: str | Path) -> CliRun:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def normalized_path() -> Path:
    return TEST_DATA / "pasilla_normalized.tsv"


@pytest.fixture(scope="session")
def raw_path() -> Path:
    return TEST_DATA / "pasilla_counts.tsv"


@pytest.fixture(scope="session")
def samples_path() -> Path:
    return TEST_DATA / "pasilla_samples.tsv"


def _rscript(script: str, *args: str | Path) -> None:
    proc = subprocess.run(["Rscript", str(R_SCRIPTS / script), *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"Rscript {script} failed:\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def rscript():
    """Run one of the tests' R scripts (``tests/r/``); fail the test with R's output if it fails."""
    return _rscript
