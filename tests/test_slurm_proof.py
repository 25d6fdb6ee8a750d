"""The Slurm proof of ``make galaxy-slurm-test`` (galaxy/slurm_mode.py) rejects jobs not run through Slurm.

A job must have run through Slurm with 2 slots. Galaxy's API answers are replayed from fixed
records, no Galaxy needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "galaxy"))

import galaxy_api
import slurm_mode

COMMAND = 'deseq2-normalized run --counts x --out-dir out --threads "${GALAXY_SLOTS:-1}"'


def _metrics(slurm_job_id: str | None, slots: int, env_slots: int | None = None) -> list[dict[str, Any]]:
    metrics = [{"plugin": "core", "name": "galaxy_slots", "raw_value": str(slots)}]
    if slurm_job_id is not None:
        metrics.append({"plugin": "env", "name": "SLURM_JOB_ID", "raw_value": slurm_job_id})
    metrics.append({"plugin": "env", "name": "GALAXY_SLOTS", "raw_value": str(env_slots or slots)})
    return metrics


def _replay(monkeypatch: pytest.MonkeyPatch, job: dict[str, Any], metrics: list, diagnostics: Any = None) -> None:
    def call(url: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        if path.endswith("/metrics"):
            return metrics
        if path.startswith("/api/datasets/"):
            return diagnostics
        return job

    monkeypatch.setattr(galaxy_api, "call", call)


def test_a_slurm_job_with_two_slots_and_threads_is_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    job = {"state": "ok", "external_id": "7", "command_line": COMMAND, "outputs": {"diagnostics": {"id": "d1"}}}
    _replay(monkeypatch, job, _metrics("7", 2), {"options": {"threads": 2}})
    proof = slurm_mode.prove_job("http://galaxy", "key", "test 1", "j1")
    assert proof.problems == []
    assert proof.line() == "slurm job 7: test 1 ok slots=2"
    assert proof.threads_source == "diagnostics options.threads"


def test_a_local_job_is_not_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    job = {"state": "ok", "external_id": "12345", "command_line": COMMAND, "outputs": {"diagnostics": {"id": "d1"}}}
    _replay(monkeypatch, job, _metrics(None, 1), {"options": {"threads": 1}})
    problems = slurm_mode.prove_job("http://galaxy", "key", "test 1", "j1").problems
    assert any("no SLURM_JOB_ID" in p for p in problems)
    assert any("galaxy_slots is 1" in p for p in problems)
    assert any("threads is 1" in p for p in problems)


def test_an_external_id_other_than_the_slurm_job_is_not_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    job = {"state": "ok", "external_id": "8", "command_line": COMMAND, "outputs": {"diagnostics": {"id": "d1"}}}
    _replay(monkeypatch, job, _metrics("7", 2), {"options": {"threads": 2}})
    problems = slurm_mode.prove_job("http://galaxy", "key", "test 1", "j1").problems
    assert problems == ["Galaxy's external id '8' differs from SLURM_JOB_ID '7'"]


def test_a_failed_job_is_proven_by_its_command_line_and_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    job = {"state": "error", "external_id": "9", "command_line": COMMAND, "outputs": {}}
    _replay(monkeypatch, job, _metrics("9", 2))
    proof = slurm_mode.prove_job("http://galaxy", "key", "test 11", "j2")
    assert proof.problems == []
    assert proof.line() == "slurm job 9: test 11 error slots=2"


def test_a_failed_job_without_the_threads_argument_is_not_proven(monkeypatch: pytest.MonkeyPatch) -> None:
    job = {"state": "error", "external_id": "9", "command_line": "deseq2-normalized run --threads 2", "outputs": {}}
    _replay(monkeypatch, job, _metrics("9", 2))
    problems = slurm_mode.prove_job("http://galaxy", "key", "test 11", "j2").problems
    assert len(problems) == 1 and problems[0].startswith("threads is None")


def test_a_report_with_fewer_tests_than_asked_is_not_proven(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    job = {"state": "ok", "external_id": "7", "command_line": COMMAND, "outputs": {"diagnostics": {"id": "d1"}}}
    _replay(monkeypatch, job, _metrics("7", 2), {"options": {"threads": 2}})
    report = tmp_path / "tool_test.json"
    report.write_text(json.dumps({"tests": [{"data": {"test_index": 0, "job": {"id": "j1"}}}]}))
    proofs, problems = slurm_mode.prove("http://galaxy", "key", report, expected_tests=2)
    assert [p.line() for p in proofs] == ["slurm job 7: test 1 ok slots=2"]
    assert problems == [f"1 tool tests in {report}, expected 2"]
