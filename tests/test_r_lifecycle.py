"""R's start and end in a process.

DESeq2 loads in a background thread while numpy and pandas are imported and the input is read
and checked, and R ends at exit as under ``Rscript``.

Each test runs a fresh Python process: in this one, R and DESeq2 are already loaded by
other tests, and R starts and ends once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


@pytest.mark.r
def test_first_call_into_r_waits_for_the_background_load_and_uses_it():
    proc = run_python(
        """
        from rpy2.rinterface_lib import openrlib
        from deseq2_normalized import rbackend, rsession

        rbackend.start_in_background()
        loading = rsession._loading
        print("loading:", loading is not None and loading.thread.is_alive(), rbackend.loading())
        versions = rbackend.versions()  # the first call into R: waits for the load
        print("still loading:", rbackend.loading())
        print("DESeq2:", versions["DESeq2"])
        print("loader done:", not loading.thread.is_alive(), loading.done.result() is rsession._env)
        print("events callback back:", openrlib.rlib.ptr_R_ProcessEvents != openrlib.ffi.NULL)
        rbackend.start_in_background()  # loaded: nothing more to start
        print("started again:", rsession._loading is not None)
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "loading: True True"
    assert lines[1] == "still loading: False"
    assert lines[2].startswith("DESeq2: 1.")
    assert lines[3] == "loader done: True True"
    assert lines[4] == "events callback back: True"
    assert lines[5] == "started again: False"


@pytest.mark.r
def test_load_failure_reaches_the_first_call_as_the_packages_error(tmp_path):
    # R evaluates the load in the loader thread: its errors must surface in the caller.
    broken = tmp_path / "broken_helpers.R"
    broken.write_text("stop('helper source broken')\n")
    proc = run_python(
        f"""
        from pathlib import Path
        from deseq2_normalized import rbackend, rsession
        from deseq2_normalized.errors import RError

        rsession._helpers_file = lambda: Path({str(broken)!r})
        rbackend.start_in_background()
        try:
            rbackend.versions()
        except RError as exc:
            print("RError:", exc.r_message)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "RError: helper source broken"


@pytest.mark.r
def test_unfinished_load_is_interrupted_when_the_process_exits():
    # An input error ends the process while DESeq2 still loads: R is interrupted and
    # waited for before rpy2 ends it, so the exit is clean and the exit code kept.
    proc = run_python(
        """
        import atexit, sys
        from deseq2_normalized import rbackend, rsession

        # Registered first, so it runs after every other exit handler.
        atexit.register(lambda: print("load ended by:", type(rsession._loading.done.exception()).__name__))
        rbackend.start_in_background()
        sys.exit(2)
        """
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.strip() == "load ended by: RError"
    assert "Traceback" not in proc.stderr


@pytest.mark.r
def test_exit_ends_r_as_rscript_does_without_a_last_garbage_collection():
    # rpy2's own exit handler runs a full garbage collection first (a second or more with
    # DESeq2 loaded); R's exit finalizers and the removal of its temporary folder remain.
    proc = run_python(
        """
        import sys
        from deseq2_normalized import rbackend
        import rpy2.robjects as ro

        rbackend.versions()
        print(ro.r("tempdir()")[0], flush=True)
        ro.r('''local({
          kept <- new.env()
          reg.finalizer(kept, function(e) cat("exit finalizer ran\\n"), onexit = TRUE)
          assign(".kept", kept, envir = globalenv())
          reg.finalizer(new.env(), function(e) cat("garbage collected at exit\\n"), onexit = FALSE)
        })''')
        sys.exit(3)
        """
    )
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert "exit finalizer ran" in lines
    assert "garbage collected at exit" not in lines
    assert not Path(lines[0]).exists()
    assert "Traceback" not in proc.stderr


@pytest.mark.r
def test_command_in_a_fresh_process_with_the_background_load(tmp_path, normalized_path, samples_path):
    # The installed command: DESeq2 loads while the input is read, the exit skips the
    # interpreter's teardown but keeps the exit handlers (R's temporary folder is removed).
    exe = Path(sys.executable).with_name("deseq2-normalized")
    r_tmp = tmp_path / "tmp"
    r_tmp.mkdir()
    args = [
        "run",
        "--counts",
        str(normalized_path),
        "--samples",
        str(samples_path),
        "--reference",
        "untreated",
        "--transform",
        "none",
        "--no-report",
        "--plots",
        "none",
        "--out-dir",
        str(tmp_path / "out"),
    ]
    env = {**os.environ, "TMPDIR": str(r_tmp)}
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "outputs written to" in proc.stderr.splitlines()[-1]
    table = (tmp_path / "out" / "results_condition_treated_vs_untreated.tsv").read_text().splitlines()
    assert table[0].split("\t") == ["gene_id", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]
    assert len(table) > 1000
    assert list(r_tmp.iterdir()) == []


def test_command_flushes_its_data_on_stdout_before_the_quick_exit(normalized_path):
    exe = Path(sys.executable).with_name("deseq2-normalized")
    proc = subprocess.run([str(exe), "check", "--counts", str(normalized_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("raw counts recovered exactly from the table")
    assert sum(line.startswith("untreated") or line.startswith("treated") for line in lines) == 7
    assert lines[-1].strip() != ""


@pytest.mark.r
def test_run_starts_r_before_numpy_and_pandas_are_imported(tmp_path, normalized_path, samples_path):
    # The DESeq2 load is the longest fixed cost of a run: `run` starts it first, and the
    # numpy/pandas imports overlap with it.
    proc = run_python(
        f"""
        import sys
        from deseq2_normalized import cli, rbackend, rsession

        start = rbackend.start_in_background

        def spy():
            print("numpy:", "numpy" in sys.modules, "pandas:", "pandas" in sys.modules)
            start()
            print("loading:", rsession._loading is not None and rsession._loading.thread.is_alive())
            raise SystemExit(5)

        rbackend.start_in_background = spy
        cli.main(["run", "--counts", {str(normalized_path)!r}, "--samples", {str(samples_path)!r},
                  "--out-dir", {str(tmp_path / "out")!r}])
        """
    )
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout.splitlines() == ["numpy: False pandas: False", "loading: True"]
    assert not (tmp_path / "out").exists()


def test_usage_errors_and_the_package_import_need_neither_r_nor_pandas():
    proc = run_python(
        """
        import sys
        import deseq2_normalized
        from deseq2_normalized import cli

        print("exit:", cli.main(["run", "--no-such-option"]))
        print("loaded:", sorted(m for m in ("numpy", "pandas", "rpy2") if m in sys.modules))
        print("run_analysis:", deseq2_normalized.run_analysis.__module__)
        print("pandas now:", "pandas" in sys.modules)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "exit: 2",
        "loaded: []",
        "run_analysis: deseq2_normalized.analysis",
        "pandas now: True",
    ]
    assert "the following arguments are required" in proc.stderr


@pytest.mark.r
def test_r_library_path_read_from_ldpaths_equals_the_one_rscript_reports(tmp_path):
    # rpy2 learns what R's front end adds to LD_LIBRARY_PATH by running Rscript; the package
    # reads the same value from R_HOME/etc/ldpaths, with and without a path set already.
    for extra in ({}, {"LD_LIBRARY_PATH": str(tmp_path)}):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(
                    """
                    from rpy2 import situation
                    from deseq2_normalized import rsession

                    r_home = situation.get_r_home()
                    print(repr(rsession._ldpaths_library_path(r_home)))
                    print(repr(situation.r_ld_library_path_from_subprocess(r_home)))
                    rsession._start_r()
                    from rpy2.rinterface_lib import openrlib
                    print(repr(openrlib.LD_LIBRARY_PATH))
                    print(situation.r_ld_library_path_from_subprocess.__module__)
                    """
                ),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **extra},
        )
        assert proc.returncode == 0, proc.stderr
        ours, rscript, used, restored = proc.stdout.splitlines()
        assert ours == rscript == used
        assert "/lib" in ours
        assert (str(tmp_path) in ours) == bool(extra)
        assert restored == "rpy2.situation"


def test_r_library_path_falls_back_without_an_ldpaths_file(tmp_path):
    from deseq2_normalized import rsession

    assert rsession._ldpaths_library_path(str(tmp_path), fallback=lambda home: f"asked R in {home}") == (
        f"asked R in {tmp_path}"
    )
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "ldpaths").write_text("exit 3\n")
    assert rsession._ldpaths_library_path(str(tmp_path)) == ""


@pytest.mark.r
@pytest.mark.parametrize(("given", "expected_mb"), [(None, 256), ("100M", 100)])
def test_r_starts_with_a_vector_heap_that_spares_the_fit_most_collections(given, expected_mb):
    # R's default 64 MB vector heap made the fit collect garbage for a third of its time; a
    # user's own R_VSIZE wins, and the variable is gone from the environment once R runs.
    env = {k: v for k, v in os.environ.items() if k != "R_VSIZE"}
    if given:
        env["R_VSIZE"] = given
    code = textwrap.dedent(
        """
        import os
        from deseq2_normalized import rsession

        ro = rsession._start_r()
        trigger_mb = ro.r("gc()[2, 4]")[0]  # Vcells' "gc trigger" in Mb
        print(round(trigger_mb), os.environ.get("R_VSIZE"))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    trigger, left = proc.stdout.split()
    assert abs(int(trigger) - expected_mb) <= 1
    assert left == (given or "None")
