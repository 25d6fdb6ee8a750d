"""retained_memory: large temporaries reuse freed heap memory instead of faulting in fresh pages."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from deseq2_normalized.memory import _glibc, retained_memory

SIZE = 8_000_000  # 64 MB of float64: far above malloc's mmap threshold


def faults_of_second_temporary() -> int:
    """Minor page faults taken by a large temporary made after an equal one was freed."""
    np.ones(SIZE).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(SIZE).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(_glibc() is None, reason="malloc tuning applies to glibc only")
def test_freed_memory_is_reused_inside_and_released_after():
    # At least one fault per 2 MiB (numpy asks for transparent huge pages), one per 4 KiB page without them.
    fresh = SIZE * 8 // 2**21
    outside = faults_of_second_temporary()
    assert outside >= fresh  # glibc's default: a fresh mmap for each large block
    with retained_memory():
        inside = faults_of_second_temporary()
    assert inside * 10 < outside
    # Afterwards glibc's limits are back: a large block is mapped afresh again.
    assert faults_of_second_temporary() >= fresh


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
