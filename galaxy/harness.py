#!/usr/bin/env python3
"""Local Galaxy harness for the tools of tool/: deseq2_normalized and deseq2_normalized_recover.

    harness.py start [--port N] [--run-dir DIR]  start Galaxy in the background, create the user
    harness.py stop [--run-dir DIR]              stop it by process id
    harness.py lint                              planemo lint of both tools and planemo shed_lint of
                                                 .shed.yml (offline checks), warnings are failures
    harness.py tool-test [--run-dir DIR] [--tool ID]
                                                 run every test of both tools (or of tool ID) against
                                                 the started Galaxy; one report for all
    harness.py browser-test [--run-dir DIR]      run tests/galaxy (headless Chromium) against it
    harness.py test                              all of the above on a fresh Galaxy, always stopped
                                                 (own run folder, removed afterwards; its log is
                                                 copied to the output folder)
    harness.py serve [--port 8080]               Galaxy for a person until Ctrl-C, then stopped
    harness.py slurm-test [--tests 1,13]         the tool's jobs through Slurm: a one-node cluster
                                                 (scripts/slurm-cluster.sh) and a fresh Galaxy
                                                 sending deseq2_normalized jobs to it (CLI runner,
                                                 2 CPUs); runs the given tests of deseq2_normalized
                                                 (numbered from 1, as in its XML) and proves from Galaxy's job
                                                 metrics that each job ran as a Slurm job with 2
                                                 slots and 2 threads; both always stopped

The Galaxy virtualenv comes from galaxy/setup_galaxy.sh (``$DESEQ2N_GALAXY_HOME/venv``); run
folders live in ``$DESEQ2N_GALAXY_HOME/runs/``. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import galaxy_server
import slurm_mode
from galaxy_server import ROOT, State, galaxy_home, galaxy_venv

log = logging.getLogger("harness")
TOOL_ID = "deseq2_normalized"
TOOL_XML = ROOT / "tool" / "deseq2_normalized.xml"
#: Every tool of the repository (tool/), by id: linted and tested together. slurm-test's numbered
#: tests are TOOL_ID's.
TOOLS = {TOOL_ID: TOOL_XML, "deseq2_normalized_recover": ROOT / "tool" / "recover_counts.xml"}
# bio.tools is not reachable offline; its linter then warns about every xref. The xref
# "deseq2" is DESeq2's bio.tools id (https://bio.tools/deseq2).
LINT_SKIP = "BioToolsValid"
# shed_lint's offline checks only: version_bumped asks the main Tool Shed's API;
# shed_remote_repository_url compares remote_repository_url with the local checkout's folder names
# (IUC keeps each tool in tools/<name>/ of one repository; here .shed.yml is at the root of a clone
# whose folder may have any name). planemo notes the latter as "unknown" (it lists tool linters
# only) but skips it.
SHED_LINT_SKIP = "version_bumped,shed_remote_repository_url"
DEFAULT_OUT = ROOT / "tests" / "galaxy" / "output"


def _run(command: list[str], **kwargs) -> int:
    shown = [
        "***" if previous in ("-k", "-a") else part for previous, part in zip(["", *command], command, strict=False)
    ]
    log.info("$ %s", " ".join(shown))
    return subprocess.call(command, **kwargs)


def _state(run_dir: Path) -> State:
    state = State.load(run_dir)
    if state is None or not state.user_api_key:
        raise SystemExit(f"no started Galaxy in {run_dir}: run 'harness.py start' first")
    return state


def lint() -> int:
    """Run planemo lint on every tool XML, then planemo shed_lint on the Tool Shed repository (.shed.yml).

    Warnings count as failures in both. Returns 0 when both pass, else the first failing exit code.
    """
    planemo = str(galaxy_venv() / "bin" / "planemo")
    code = _run([planemo, "lint", "--fail_level", "warn", "--skip", LINT_SKIP, *(str(p) for p in TOOLS.values())])
    shed_lint = [planemo, "shed_lint", "--fail_level", "warn", "--ensure_metadata", "--skip", SHED_LINT_SKIP]
    shed = _run([*shed_lint, str(ROOT)])
    return code or shed


def tool_test(run_dir: Path, out_dir: Path, tests: list[int] | None = None, tools: list[str] | None = None) -> int:
    """Run tool tests against the started Galaxy; one JSON report for all of them.

    ``tests`` (numbered from 1) selects tests of :data:`TOOL_ID` only; otherwise every test of
    ``tools`` (default: every tool of :data:`TOOLS`) runs, one tool after the other.
    """
    state = _state(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "tool_test.json"
    report.unlink(missing_ok=True)

    def command(tool_id: str) -> list[str]:
        return [
            str(galaxy_venv() / "bin" / "galaxy-tool-test"),
            "-u", state.url, "-k", state.user_api_key, "-a", state.user_api_key,
            "-t", tool_id, "--parallel-tests", os.environ.get("DESEQ2N_TOOL_TEST_PARALLEL", "2"),
            "-j", str(report), "-o", str(out_dir / "tool_test_outputs"), "--history-per-test-case",
        ]  # fmt: skip

    began = time.monotonic()
    if tests:
        code = _run_selected(command(TOOL_ID), report, tests)
    else:
        code = 0
        for i, tool_id in enumerate(tools or list(TOOLS)):
            # The second tool's results are added to the first one's report.
            code = max(code, _run(command(tool_id) + (["--append"] if i else [])))
    passed, failed = _summary(report)
    log.info(
        "tool tests: %d passed, %d failed in %.0f s (report: %s)", passed, failed, time.monotonic() - began, report
    )
    if code == 0 and (failed or not passed):
        code = 1
    return code


def _run_selected(command: list[str], report: Path, tests: list[int]) -> int:
    """Run the tests numbered ``tests`` side by side, one galaxy-tool-test each; merge their reports.

    galaxy-tool-test runs one test index or all of them; side by side, the uploads of every test
    overlap (what the batch system then queues is up to it).
    """
    runs = []
    for number in tests:
        part = report.with_name(f"{report.stem}-{number}.json")
        part.unlink(missing_ok=True)
        argv = [*command, "-i", str(number - 1)]
        argv[argv.index("-j") + 1] = str(part)
        shown = ["***" if previous in ("-k", "-a") else item for previous, item in zip(["", *argv], argv, strict=False)]
        log.info("$ %s", " ".join(shown))
        runs.append((part, subprocess.Popen(argv)))
    code = max(proc.wait() for _, proc in runs)
    merged: dict = {"tests": []}
    for part, _ in runs:
        if part.exists():
            data = json.loads(part.read_text())
            merged = {**data, "tests": merged["tests"] + data.get("tests", [])}
            part.unlink()
    report.write_text(json.dumps(merged, indent=2) + "\n")
    return code


def _summary(report: Path) -> tuple[int, int]:
    if not report.exists():
        return 0, 0
    tests = json.loads(report.read_text()).get("tests", [])
    statuses = [t.get("data", {}).get("status") for t in tests]
    for test in tests:
        if test.get("data", {}).get("status") != "success":
            log.error(
                "FAILED %s: %s", test.get("id"), (test.get("data", {}).get("job") or {}).get("stderr", "")[-2000:]
            )
    return statuses.count("success"), len(statuses) - statuses.count("success")


def browser_test(run_dir: Path) -> int:
    """Run the browser tests (tests/galaxy, headless Chromium) against the started Galaxy in ``run_dir``.

    pytest runs in the Galaxy virtualenv and finds the server and its user through the
    ``DESEQ2N_GALAXY_*`` environment variables. Returns pytest's exit code.
    """
    state = _state(run_dir)
    env = dict(os.environ)
    env.update(
        DESEQ2N_GALAXY_URL=state.url,
        DESEQ2N_GALAXY_EMAIL=state.email,
        DESEQ2N_GALAXY_PASSWORD=state.password,
        DESEQ2N_BROWSER_TEST="1",
    )
    command = [
        str(galaxy_venv() / "bin" / "python"), "-m", "pytest", "-v", "-p", "no:cacheprovider",
        "--confcutdir", str(ROOT / "tests" / "galaxy"), str(ROOT / "tests" / "galaxy"),
    ]  # fmt: skip
    return _run(command, env=env, cwd=ROOT)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _interrupt_on_signals() -> None:
    """Turn Ctrl-C, SIGTERM and SIGHUP into KeyboardInterrupt, so that ``finally`` stops Galaxy.

    Set explicitly: a shell may have started us with SIGINT ignored (a background job).
    """
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)


def test_all(run_dir: Path, out_dir: Path, port: int | None) -> int:
    """Lint, then a fresh Galaxy: tool tests and browser test; the server is always stopped."""
    _interrupt_on_signals()
    codes = {"lint": lint()}
    began = time.monotonic()
    try:
        galaxy_server.start(run_dir, port=port, fresh=True)
        log.info("Galaxy up in %.0f s", time.monotonic() - began)
        codes["tool tests"] = tool_test(run_dir, out_dir)
        codes["browser test"] = browser_test(run_dir)
    finally:
        galaxy_server.stop(run_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if (run_dir / "galaxy.log").exists():
            shutil.copyfile(run_dir / "galaxy.log", out_dir / "galaxy.log")
        if not os.environ.get("DESEQ2N_KEEP_GALAXY_RUN"):
            shutil.rmtree(run_dir, ignore_errors=True)
    for name, code in codes.items():
        log.info("%-13s %s", name, "ok" if code == 0 else f"FAILED (exit {code})")
    return 0 if all(c == 0 for c in codes.values()) else 1


def slurm_test(run_dir: Path, out_dir: Path, port: int | None, tests: list[int]) -> int:
    """Tool tests through a one-node Slurm cluster, with proof per job; cluster and Galaxy always stopped."""
    _interrupt_on_signals()
    slurm_mode.install()
    # The cluster's folder must be reachable by the munge user: not under a home folder.
    cluster_dir = Path(tempfile.mkdtemp(prefix="deseq2n-slurm-"))
    began = time.monotonic()
    code = 1
    try:
        slurm_conf = slurm_mode.start_cluster(cluster_dir)
        galaxy_server.start(run_dir, port=port, fresh=True, slurm_conf=slurm_conf)
        log.info("Slurm cluster and Galaxy up in %.0f s", time.monotonic() - began)
        code = tool_test(run_dir, out_dir, tests)
        state = _state(run_dir)
        proofs, problems = slurm_mode.prove(state.url, state.user_api_key, out_dir / "tool_test.json", len(tests))
        for proof in proofs:
            # The evidence lines are the test's result: stdout.
            print(proof.line(), flush=True)
            log.info(
                "  Galaxy job %s: external id %s, threads=%s (%s)",
                proof.job_id,
                proof.external_id,
                proof.threads,
                proof.threads_source,
            )
        for problem in problems:
            log.error("not proven: %s", problem)
        if problems:
            code = 1
    finally:
        galaxy_server.stop(run_dir)
        slurm_mode.stop_cluster(cluster_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("galaxy.log", "job_conf.yml"):
            if (run_dir / name).exists():
                shutil.copyfile(run_dir / name, out_dir / name)
        for name in ("slurm.conf", "log/slurmctld.log", "log/slurmd.log"):
            if (cluster_dir / name).exists():
                shutil.copyfile(cluster_dir / name, out_dir / Path(name).name)
        if not os.environ.get("DESEQ2N_KEEP_GALAXY_RUN"):
            shutil.rmtree(run_dir, ignore_errors=True)
            shutil.rmtree(cluster_dir, ignore_errors=True)
    log.info("slurm test %s in %.0f s", "ok" if code == 0 else f"FAILED (exit {code})", time.monotonic() - began)
    return code


def serve(run_dir: Path, port: int) -> int:
    """Start Galaxy for a person, print how to log in, wait for Ctrl-C, stop it."""
    _interrupt_on_signals()
    try:
        state = galaxy_server.start(run_dir, port=port)
        print(
            f"\nGalaxy is running with the deseq2_normalized tool:\n"
            f"  URL:      {state.url}\n  login:    {state.email}\n  password: {state.password}\n"
            f"  log:      {run_dir / 'galaxy.log'}\n"
            f"Example data to upload: {ROOT / 'test-data' / 'pasilla_normalized.tsv'} and "
            f"{ROOT / 'test-data' / 'pasilla_samples.tsv'}\nPress Ctrl-C to stop.\n",
            file=sys.stderr,
            flush=True,
        )
        while galaxy_server._alive(state.pid):
            time.sleep(2)
        log.error("Galaxy exited; last lines of its log:\n%s", galaxy_server.log_tail(run_dir))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        galaxy_server.stop(run_dir)


def main(argv: list[str] | None = None) -> int:
    """Run one harness command (see the module docstring) and return its exit code (0: it succeeded)."""
    logging.basicConfig(level=logging.INFO, format="harness: %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command", choices=("start", "stop", "lint", "tool-test", "browser-test", "test", "serve", "slurm-test")
    )
    parser.add_argument("--run-dir", type=Path, help="run folder (default: $DESEQ2N_GALAXY_HOME/runs/<test|serve>)")
    parser.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one; 8080 for serve)")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="test reports")
    parser.add_argument(
        "--tests", default="1,13", help="slurm-test: tool tests to run, by position from 1 (default 1,13)"
    )
    parser.add_argument(
        "--tool",
        action="append",
        choices=list(TOOLS),
        help="tool-test: only this tool's tests (repeatable; default: every tool)",
    )
    args = parser.parse_args(argv)
    default = {"serve": "serve", "test": f"test-{os.getpid()}", "slurm-test": f"slurm-{os.getpid()}"}.get(
        args.command, "test"
    )
    run_dir = (args.run_dir or galaxy_home() / "runs" / default).resolve()
    if args.command == "start":
        state = galaxy_server.start(run_dir, port=args.port)
        print(state.url)
        return 0
    if args.command == "stop":
        galaxy_server.stop(run_dir)
        return 0
    if args.command == "lint":
        return lint()
    if args.command == "tool-test":
        return tool_test(run_dir, args.out_dir, tools=args.tool)
    if args.command == "browser-test":
        return browser_test(run_dir)
    if args.command == "test":
        return test_all(run_dir, args.out_dir, args.port)
    if args.command == "slurm-test":
        out_dir = args.out_dir if args.out_dir != DEFAULT_OUT else ROOT / "tests" / "galaxy" / "output-slurm"
        return slurm_test(run_dir, out_dir, args.port, [int(n) for n in args.tests.split(",")])
    return serve(run_dir, args.port or int(os.environ.get("GALAXY_PORT", "8080")))


if __name__ == "__main__":
    sys.exit(main())
