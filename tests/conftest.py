"""Shared fixtures: test-data paths, an in-process CLI runner, and the check of the markers.

Markers (registered in pyproject.toml): ``r`` for tests that use R (in this process or through
``Rscript``), ``chromium`` for tests that open a page in headless Chromium, ``galaxy`` for tests
that need a running Galaxy. A test that uses R without the ``r`` marker fails here, so that
``pytest -m "not r"`` stays free of R: R used through the session (``rsession.helpers``, base R)
or started in the background (``start_in_background``, which ``run`` calls before it reads its
input). A test that runs ``run`` on input refused before R asks for :func:`r_unavailable`: R
then cannot start, as on a machine without it, and any call into R fails.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from deseq2_normalized import rbackend, rsession
from deseq2_normalized.cli import main
from deseq2_normalized.errors import AnalysisError
from deseq2_normalized.reader import read_counts

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


@pytest.fixture(scope="session")
def raw(raw_path: Path) -> pd.DataFrame:
    """The pasilla raw counts (genes x samples)."""
    return read_counts(raw_path)


@pytest.fixture(scope="session")
def original_sf(raw_path: Path) -> pd.Series:
    """DESeq2's size factors of the pasilla raw counts (test-data/pasilla_size_factors.tsv)."""
    return pd.read_csv(raw_path.parent / "pasilla_size_factors.tsv", sep="\t", index_col=0)["size_factor"]


@pytest.fixture(scope="session")
def sheet(tmp_path_factory: pytest.TempPathFactory, samples_path: Path) -> Path:
    """The pasilla sample sheet with the tested factor last (tests/r/deseq2_reference.R's convention)."""
    path = tmp_path_factory.mktemp("sheet") / "samples.tsv"
    pd.read_csv(samples_path, sep="\t")[["sample", "type", "condition"]].to_csv(path, sep="\t", index=False)
    return path


#: R used by the running test: filled by the R session and by ``Rscript`` calls (see _markers_hold).
_R_USED: list[str] = []


def _rscript(script: str, *args: str | Path) -> None:
    _R_USED.append(f"Rscript {script}")
    proc = subprocess.run(["Rscript", str(R_SCRIPTS / script), *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"Rscript {script} failed:\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def rscript():
    """Run one of the tests' R scripts (``tests/r/``); fail the test with R's output if it fails."""
    return _rscript


def _watch_r(monkeypatch: pytest.MonkeyPatch) -> None:
    """Note in ``_R_USED`` every way a test can start or use R in this process (the calls run as usual)."""
    helpers, base_r, start = rsession.helpers, rsession.base_r, rsession.start_in_background

    # Noted once R answered: a call refused because R cannot start (r_unavailable) used no R.
    def noted_helpers() -> object:
        env = helpers()
        _R_USED.append("the R session")
        return env

    @contextlib.contextmanager
    def noted_base_r() -> Iterator[object]:
        with base_r() as ro:
            _R_USED.append("base R")
            yield ro

    def noted_start() -> None:
        start()
        # Started now, or earlier in this worker (then a fresh process would start it here):
        # either way the test starts R. Nothing is started when R cannot be (r_unavailable).
        if rsession._env is not None or rsession._loading is not None:
            _R_USED.append("R started in the background")

    monkeypatch.setattr(rsession, "helpers", noted_helpers)
    monkeypatch.setattr(rsession, "base_r", noted_base_r)
    monkeypatch.setattr(rsession, "start_in_background", noted_start)
    # rbackend holds these under its own names: the command line and run_analysis call them there.
    monkeypatch.setattr(rbackend, "wait_until_loaded", noted_helpers)
    monkeypatch.setattr(rbackend, "start_in_background", noted_start)


@pytest.fixture(autouse=True)
def _markers_hold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that uses R without the ``r`` marker (the R calls themselves run as usual)."""
    _watch_r(monkeypatch)
    _R_USED.clear()
    yield
    used, marked = sorted(set(_R_USED)), request.node.get_closest_marker("r") is not None
    _R_USED.clear()
    if used and not marked:
        pytest.fail(f"uses R ({', '.join(used)}) but is not marked 'r'", pytrace=False)


#: The message of every attempt to start R under :func:`r_unavailable`.
R_UNAVAILABLE = "cannot start R through rpy2: R is unavailable in this test (r_unavailable)"


@pytest.fixture
def r_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """R cannot start in this test, as on a machine without R.

    ``start_in_background`` then does nothing and any call into R raises
    :class:`~deseq2_normalized.errors.AnalysisError` (:data:`R_UNAVAILABLE`), also when an
    earlier test of this worker loaded DESeq2. For tests of ``run`` on input that must be
    refused before R: they pass only if nothing reaches R.
    """

    def refuse() -> None:
        raise AnalysisError(R_UNAVAILABLE)

    monkeypatch.setattr(rsession, "_start_r", refuse)
    monkeypatch.setattr(rsession, "_env", None)
    monkeypatch.setattr(rsession, "_loading", None)


@pytest.fixture(scope="session")
def env_without_r(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a child process in which R cannot start: an ``rpy2`` that fails to import comes first.

    The command then behaves as on a machine without R (its background start does nothing;
    a call into R fails with "cannot start R through rpy2").
    """
    shadow = tmp_path_factory.mktemp("without_r") / "rpy2"
    shadow.mkdir()
    (shadow / "__init__.py").write_text('raise ImportError("R is unavailable in this test (env_without_r)")\n')
    path = os.pathsep.join(p for p in (str(shadow.parent), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}
