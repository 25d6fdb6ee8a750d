"""The R helpers file (``src/deseq2_normalized/R/deseq2_helpers.R``).

Plain R that a fresh R can source on its own, called from :mod:`deseq2_normalized.rbackend` by
name with exactly the argument names each helper declares.
"""

from __future__ import annotations

import ast
import logging
import subprocess
from pathlib import Path

import pytest

from deseq2_normalized import rbackend, rsession
from deseq2_normalized.errors import RError

ROOT = Path(__file__).resolve().parent.parent
HELPERS_R = "src/deseq2_normalized/R/deseq2_helpers.R"
RBACKEND = ROOT / "src" / "deseq2_normalized" / "rbackend.py"
#: Python calls into R through these two, the helper's name first, then named arguments only.
CALLERS = ("_call", "_call_uncaptured")
#: Helpers only the other helpers call.
R_ONLY = {"capture_warnings", "parallel_param", "coef_name", "refit_results"}

# Source the file in a fresh R (no site or user profile) as one would at an R prompt, then
# print each function's formals and which packages sourcing it loaded.
_SIGNATURES = f"""
source("{HELPERS_R}")
for (name in ls()) {{
  if (is.function(get(name))) writeLines(paste(name, paste(names(formals(get(name))), collapse = ","), sep = "\\t"))
}}
writeLines(paste("loaded", paste(sort(loadedNamespaces()), collapse = ","), sep = "\\t"))
"""


@pytest.fixture(scope="module")
def sourced() -> dict[str, list[str]]:
    """Function name to its formals (and ``"loaded"`` to the loaded namespaces) after ``source()``."""
    proc = subprocess.run(
        ["Rscript", "--vanilla", "-e", _SIGNATURES], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    return {row[0]: row[1].split(",") if len(row) > 1 and row[1] else [] for row in rows}


@pytest.fixture(scope="module")
def signatures(sourced: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: formals for name, formals in sourced.items() if name != "loaded"}


def _helper_calls() -> list[ast.Call]:
    tree = ast.parse(RBACKEND.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLERS
    ]


@pytest.mark.r
def test_the_file_sources_in_a_fresh_r_and_only_defines_functions(sourced, signatures):
    assert set(signatures) == {
        "capture_warnings",
        "coef_name",
        "coldata",
        "dataset",
        "dispersion_table",
        "fit",
        "fit_options",
        "has_r_package",
        "normalized_counts",
        "parallel_param",
        "refit_results",
        "refits_collect",
        "refits_start",
        "refits_stop",
        "results_options",
        "results_table",
        "rounded_dispersions",
        "save_rds",
        "size_factors",
        "transformed_counts",
        "versions",
    }
    # Defining the helpers loads nothing: DESeq2 is loaded by the package, or by the user.
    assert not {"DESeq2", "BiocParallel", "SummarizedExperiment"} & set(sourced["loaded"])


def test_the_package_finds_the_file_it_ships():
    assert rsession._helpers_file().read_text(encoding="utf-8") == (ROOT / HELPERS_R).read_text(encoding="utf-8")


@pytest.mark.r
def test_every_helper_call_passes_exactly_the_names_the_helper_declares(signatures):
    calls = _helper_calls()
    called = set()
    for call in calls:
        where = f"rbackend.py line {call.lineno}"
        assert len(call.args) == 1 and isinstance(call.args[0], ast.Constant), f"{where}: positional arguments"
        helper = call.args[0].value
        assert helper in signatures, f"{where}: no R helper {helper!r}"
        names = [k.arg for k in call.keywords]
        assert None not in names, f"{where}: **arguments hide the names"
        # No helper has defaults: every argument is passed, by its own name.
        assert sorted(names) == sorted(signatures[helper]), f"{where}: {helper}({', '.join(signatures[helper])})"
        called.add(helper)
    assert called == set(signatures) - R_ONLY


@pytest.mark.r
def test_the_warning_capture_takes_the_helper_by_a_name_no_helper_uses(signatures):
    assert signatures["capture_warnings"] == ["helper", "..."]
    assert not any("helper" in formals for name, formals in signatures.items() if name != "capture_warnings")


@pytest.mark.r
def test_a_misnamed_argument_is_an_r_error_with_rs_message():
    import rpy2.robjects as ro

    with pytest.raises(RError, match=r"unused argument \(kinds = "):
        rbackend._call("transformed_counts", dds=ro.NULL, kinds=ro.StrVector(["vst"]))


@pytest.mark.r
def test_r_console_and_warnings_go_to_the_r_console_logger():
    import rpy2.robjects as ro

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logger = logging.getLogger("deseq2_normalized.r_console")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    env = rsession.helpers()
    env["chatty_helper"] = ro.r("function(text) { cat('said', text, '\\n'); warning('careful:\\n  ', text); 1 }")
    try:
        assert rbackend._call("chatty_helper", text=ro.StrVector(["now"]))[0] == 1
    finally:
        ro.r["rm"](list="chatty_helper", envir=env)
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG, "said now"),
        (logging.WARNING, "R warning: careful: now"),
    ]
