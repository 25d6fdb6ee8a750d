"""retained_memory: large temporaries reuse freed heap memory instead of faulting in fresh pages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deseq2_normalized.memory import _glibc

# Measured in a fresh interpreter: R embedded in this process by other tests sets malloc's options too.
PROBE = """
import json, resource
import numpy as np
from deseq2_normalized.memory import retained_memory

SIZE = 8_000_000  # 64 MB of float64: far above malloc's mmap threshold


def faults_of_second_temporary():
    np.ones(SIZE).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(SIZE).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


outside = faults_of_second_temporary()
with retained_memory():
    inside = faults_of_second_temporary()
print(json.dumps({"outside": outside, "inside": inside, "after": faults_of_second_temporary(), "size": SIZE}))
"""


@pytest.mark.skipif(_glibc() is None, reason="malloc tuning applies to glibc only")
def test_freed_memory_is_reused_inside_and_released_after():
    """Minor page faults of a large temporary made after an equal one was freed."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    faults = json.loads(out)
    # At least one fault per 2 MiB (numpy asks for transparent huge pages), one per 4 KiB page without them.
    fresh = faults["size"] * 8 // 2**21
    assert faults["outside"] >= fresh  # glibc's default: a fresh mmap for each large block
    assert faults["inside"] * 10 < faults["outside"]
    assert faults["after"] >= fresh  # glibc's limits are back: a large block is mapped afresh again


def test_check_and_recover_use_it_run_does_not(monkeypatch, tmp_path, normalized_path, samples_path):
    """R's allocations stay with glibc's defaults, as under Rscript: run never enters it."""
    from contextlib import contextmanager

    from deseq2_normalized import cli, memory
    from deseq2_normalized.cli import main

    entered: list[str] = []

    @contextmanager
    def recorder():
        entered.append("in")
        yield

    monkeypatch.setattr(memory, "retained_memory", recorder)
    common = ["--counts", str(normalized_path), "--samples", str(samples_path), "--quiet"]
    assert main(["check", *common]) == 0
    assert main(["recover", *common, "--out", str(tmp_path / "counts.tsv")]) == 0
    assert entered == ["in", "in"]
    monkeypatch.setattr(cli, "_cmd_run", lambda args: len(entered))  # dispatch only: R is not started
    assert main(["run", *common, "--out-dir", str(tmp_path / "out")]) == 2
    assert entered == ["in", "in"]
