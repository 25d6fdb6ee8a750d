"""The harness's Slurm mode: a one-node Slurm cluster, and proof that the tool's jobs ran on it.

The cluster comes from scripts/slurm-cluster.sh (install / start / stop by pid). After the tool
tests, :func:`prove` reads, for every tool job in galaxy-tool-test's JSON report, what Galaxy
recorded about it and checks that it went through Slurm with two slots:

- ``GET /api/jobs/{id}/metrics``: the ``env`` plugin's ``SLURM_JOB_ID`` (set only inside a Slurm
  job) and the ``core`` plugin's ``galaxy_slots`` == 2;
- ``GET /api/jobs/{id}?full=true``: the CLI runner's external id equals that Slurm job id;
- the threads the tool used: ``options.threads`` == 2 in the job's diagnostics output (a job that
  succeeded), or, for a job that failed before writing diagnostics, its command line passing
  ``--threads "${GALAXY_SLOTS:-1}"`` with ``GALAXY_SLOTS`` == 2 recorded by the env plugin.
"""

from __future__ import annotations

import json
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import galaxy_api
from galaxy_server import ROOT

log = logging.getLogger(__name__)

CLUSTER_SCRIPT = ROOT / "scripts" / "slurm-cluster.sh"
SLOTS = 2
THREADS_ARGUMENT = '--threads "${GALAXY_SLOTS:-1}"'


def install() -> None:
    """Install Slurm and munge from Debian when missing (scripts/slurm-cluster.sh install)."""
    subprocess.run(["bash", str(CLUSTER_SCRIPT), "install"], check=True)


def start_cluster(cluster_dir: Path) -> Path:
    """Start the one-node cluster in ``cluster_dir``; return its slurm.conf path."""
    out = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start", str(cluster_dir)], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def stop_cluster(cluster_dir: Path) -> None:
    """Stop the cluster started from ``cluster_dir`` (by the pids in its pid files)."""
    subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(cluster_dir)], check=False)


@dataclass
class JobProof:
    """What Galaxy recorded about one tool job run through Slurm."""

    test: str
    job_id: str
    external_id: str
    state: str
    slurm_job_id: str
    slots: int | None
    threads: int | None
    threads_source: str
    problems: list[str]

    def line(self) -> str:
        """One log line for the job: its Slurm job id (``?`` when none), test, state and slots."""
        return f"slurm job {self.slurm_job_id or '?'}: {self.test} {self.state} slots={self.slots}"


def _metrics(url: str, key: str, job_id: str) -> dict[tuple[str, str], str]:
    answer = galaxy_api.call(url, f"/api/jobs/{job_id}/metrics", key=key)
    return {(m.get("plugin", ""), m.get("name", "")): str(m.get("raw_value", m.get("value"))) for m in answer}


def _diagnostics_threads(url: str, key: str, job: dict[str, Any]) -> int | None:
    output = (job.get("outputs") or {}).get("diagnostics")
    if not output:
        return None
    text = galaxy_api.call(url, f"/api/datasets/{output['id']}/display?preview=false", key=key)
    threads = (text or {}).get("options", {}).get("threads")
    return int(threads) if threads is not None else None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def prove_job(url: str, key: str, test: str, job_id: str) -> JobProof:
    """Collect and check the Slurm evidence of one Galaxy job."""
    job = galaxy_api.call(url, f"/api/jobs/{job_id}?full=true", key=key)
    metrics = _metrics(url, key, job_id)
    problems = []
    slurm_job_id = metrics.get(("env", "SLURM_JOB_ID"), "")
    if not slurm_job_id:
        problems.append("no SLURM_JOB_ID in the job's env metrics: it did not run inside a Slurm job")
    external_id = str(job.get("external_id") or "")
    if external_id != slurm_job_id:
        problems.append(f"Galaxy's external id {external_id!r} differs from SLURM_JOB_ID {slurm_job_id!r}")
    slots = _int(metrics.get(("core", "galaxy_slots")))
    if slots != SLOTS:
        problems.append(f"galaxy_slots is {slots}, expected {SLOTS}")
    env_slots = _int(metrics.get(("env", "GALAXY_SLOTS")))
    threads = _diagnostics_threads(url, key, job)
    source = "diagnostics options.threads"
    if threads is None:
        if THREADS_ARGUMENT in (job.get("command_line") or ""):
            threads, source = env_slots, "command line --threads ${GALAXY_SLOTS} with GALAXY_SLOTS from env metrics"
        else:
            source = "none: no diagnostics output and no --threads ${GALAXY_SLOTS} in the command line"
    if threads != SLOTS:
        problems.append(f"threads is {threads} ({source}), expected {SLOTS}")
    return JobProof(test, job_id, external_id, str(job.get("state")), slurm_job_id, slots, threads, source, problems)


def prove(url: str, key: str, report: Path, expected_tests: int) -> tuple[list[JobProof], list[str]]:
    """Check every tool job of a galaxy-tool-test JSON report; return the proofs and the problems."""
    problems: list[str] = []
    tests = json.loads(report.read_text()).get("tests", []) if report.exists() else []
    if len(tests) != expected_tests:
        problems.append(f"{len(tests)} tool tests in {report}, expected {expected_tests}")
    proofs = []
    for test in tests:
        data = test.get("data", {})
        name = f"test {int(data.get('test_index', -1)) + 1}"
        job = data.get("job") or {}
        if not job.get("id"):
            problems.append(f"{name}: no Galaxy job in the report")
            continue
        proof = prove_job(url, key, name, job["id"])
        proofs.append(proof)
        problems.extend(f"{name} (Galaxy job {proof.job_id}): {p}" for p in proof.problems)
    return proofs, problems
