"""The conftest's marker guard, run by a child pytest on a test file of its own.

An unmarked test fails when it uses R through the session or starts R in the background, as
``run`` does before it reads its input; ``r_unavailable`` lets such a test pass when nothing
reaches R. R's start and DESeq2's load are stand-ins here (no R runs): the guard sees the
state ``start_in_background`` leaves, which is the same.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

INNER = '''
import pytest

from deseq2_normalized import rbackend, rsession


@pytest.fixture
def r_starts(monkeypatch):
    """What start_in_background meets on a machine with R: R starts, DESeq2 loads (stand-ins)."""
    monkeypatch.setattr(rsession, "_env", None)
    monkeypatch.setattr(rsession, "_loading", None)
    monkeypatch.setattr(rsession, "_start_r", lambda: None)
    monkeypatch.setattr(rsession, "_load_in_background", lambda done: done.set_result("DESeq2 loaded"))


def test_unmarked_starts_r_in_the_background(r_starts):
    rbackend.start_in_background()


def test_unmarked_starts_r_when_an_earlier_test_loaded_it(monkeypatch):
    # The worker's R is loaded already: start_in_background returns at once, still a start of R.
    monkeypatch.setattr(rsession, "_env", "loaded by an earlier test")
    monkeypatch.setattr(rsession, "_loading", None)
    rbackend.start_in_background()


def test_unmarked_run_on_bad_input_starts_r(r_starts, cli, tmp_path):
    (tmp_path / "c.tsv").write_text("")
    run = cli("run", "--counts", tmp_path / "c.tsv", "--group", "a=2", "--group", "b=3", "--out-dir", tmp_path / "o")
    assert run.code == 2 and "file is empty" in run.err


def test_unmarked_uses_the_r_session(monkeypatch):
    monkeypatch.setattr(rsession, "_env", "the helper environment")
    assert rsession.helpers() == "the helper environment"


@pytest.mark.r
def test_marked_starts_r_in_the_background(r_starts):
    rbackend.start_in_background()


def test_unmarked_run_on_bad_input_without_r(r_starts, r_unavailable, cli, tmp_path):
    (tmp_path / "c.tsv").write_text("")
    run = cli("run", "--counts", tmp_path / "c.tsv", "--group", "a=2", "--group", "b=3", "--out-dir", tmp_path / "o")
    assert run.code == 2 and "file is empty" in run.err
    assert rsession._loading is None and rsession._env is None


def test_r_unavailable_makes_every_call_into_r_fail(r_unavailable):
    from deseq2_normalized.errors import AnalysisError

    with pytest.raises(AnalysisError, match="R is unavailable in this test"):
        rbackend.versions()
    with pytest.raises(AnalysisError, match="R is unavailable in this test"):
        rsession.helpers()
'''


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """Each inner test's outcome and message, from one pytest run in a child process (its JUnit XML).

    The guard fails a test in its teardown: pytest reports that as an ``error`` of the test.
    """
    folder = tmp_path_factory.mktemp("guard")
    (folder / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    r: uses R\n    chromium: a browser\n")
    (folder / "test_inner.py").write_text(INNER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--junitxml=junit.xml",
         "test_inner.py"],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    results: dict[str, tuple[str, str]] = {}
    for case in ElementTree.parse(folder / "junit.xml").iter("testcase"):
        problems = [(child.tag, child.get("message", "")) for child in case if child.tag in ("failure", "error")]
        results[case.get("name", "")] = problems[0] if problems else ("passed", "")
    assert len(results) == 7, proc.stdout + proc.stderr
    return results


MESSAGE = "but is not marked 'r'"


def test_background_start_of_an_unmarked_test_fails(outcome):
    status, message = outcome["test_unmarked_starts_r_in_the_background"]
    assert status == "error" and f"uses R (R started in the background) {MESSAGE}" in message


def test_background_start_is_caught_when_r_was_loaded_by_an_earlier_test(outcome):
    status, message = outcome["test_unmarked_starts_r_when_an_earlier_test_loaded_it"]
    assert status == "error" and f"uses R (R started in the background) {MESSAGE}" in message


def test_run_on_bad_input_in_an_unmarked_test_fails(outcome):
    # run starts R before it reads the input: refused input does not make that start R-free.
    status, message = outcome["test_unmarked_run_on_bad_input_starts_r"]
    assert status == "error" and f"uses R (R started in the background) {MESSAGE}" in message


def test_session_use_of_an_unmarked_test_fails(outcome):
    status, message = outcome["test_unmarked_uses_the_r_session"]
    assert status == "error" and f"uses R (the R session) {MESSAGE}" in message


def test_marked_test_may_start_r(outcome):
    assert outcome["test_marked_starts_r_in_the_background"][0] == "passed"


def test_r_unavailable_keeps_run_on_bad_input_r_free(outcome):
    assert outcome["test_unmarked_run_on_bad_input_without_r"][0] == "passed"
    assert outcome["test_r_unavailable_makes_every_call_into_r_fail"][0] == "passed"


def test_env_without_r_keeps_r_from_starting_in_a_child_process(env_without_r):
    code = (
        "from deseq2_normalized import rbackend, rsession\n"
        "rbackend.start_in_background()\n"
        "print('loading:', rsession._loading is not None)\n"
        "try:\n"
        "    rbackend.versions()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env_without_r, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "loading: False",
        "AnalysisError cannot start R through rpy2: R is unavailable in this test (env_without_r)",
    ]
