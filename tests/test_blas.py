"""numpy's BLAS on one thread inside :func:`one_blas_thread`, restored after it."""

from __future__ import annotations

import contextlib
import ctypes

import pytest

from deseq2_normalized import blas


def _thread_getters() -> list:
    getters = []
    for path in blas._openblas_libraries():
        lib = ctypes.CDLL(str(path))
        for _, get_name in blas._OPENBLAS_THREAD_FUNCTIONS:
            getter = getattr(lib, get_name, None)
            if getter is not None:
                getter.restype = ctypes.c_int
                getters.append(getter)
                break
    return getters


def test_one_thread_inside_the_block_restored_after():
    getters = _thread_getters()
    if not getters:
        pytest.skip("numpy does not use OpenBLAS here")
    before = [g() for g in getters]
    with blas.one_blas_thread():
        assert [g() for g in getters] == [1] * len(getters)
    assert [g() for g in getters] == before


def test_restored_when_the_block_raises():
    getters = _thread_getters()
    before = [g() for g in getters]
    with pytest.raises(RuntimeError), blas.one_blas_thread():
        raise RuntimeError("inside")
    assert [g() for g in getters] == before


#: The drawing functions of the run's plots (deseq2_normalized.figures looks them up on plots).
DRAWING = (
    "size_factor_plot",
    "dispersion_plot",
    "dispersion_comparison_plot",
    "pca_plot",
    "sample_distance_plot",
    "ma_plot",
    "volcano_plot",
    "pvalue_histogram",
)


def test_the_run_plots_are_drawn_on_one_thread(tmp_path, monkeypatch, normalized_path, samples_path):
    """Every drawing function of a run's plots runs with BLAS on one thread, restored afterwards."""
    from built_result import build_result
    from deseq2_normalized import plots
    from deseq2_normalized.figures import draw_run_plots
    from deseq2_normalized.options import AnalysisOptions
    from deseq2_normalized.reader import read_counts, read_samples

    getters = _thread_getters()
    if not getters:
        pytest.skip("numpy does not use OpenBLAS here")
    result = build_result(
        read_counts(normalized_path).iloc[:300],
        read_samples(samples_path),
        AnalysisOptions(design="~ type + condition", reference="untreated", transform="none"),
    )
    seen: dict[str, list[int]] = {}

    def watched(name, draw):
        def run(*args, **kwargs):
            seen[name] = [g() for g in getters]
            return draw(*args, **kwargs)

        return run

    for name in DRAWING:
        monkeypatch.setattr(plots, name, watched(name, getattr(plots, name)))
    with _threads(getters, 2):
        drawn = draw_run_plots(result, tmp_path)
        after = [g() for g in getters]
    assert len(drawn) == 8
    assert seen == {name: [1] * len(getters) for name in DRAWING}
    assert after == [2] * len(getters)


@contextlib.contextmanager
def _threads(getters: list, n: int):
    """OpenBLAS on ``n`` threads inside the block (so that one thread is a change), restored after it."""
    setters = []
    for path in blas._openblas_libraries():
        lib = ctypes.CDLL(str(path))
        for set_name, get_name in blas._OPENBLAS_THREAD_FUNCTIONS:
            if getattr(lib, get_name, None) is not None:
                setters.append(getattr(lib, set_name))
                break
    before = [g() for g in getters]
    for setter in setters:
        setter(ctypes.c_int(n))
    assert [g() for g in getters] == [n] * len(getters)
    try:
        yield
    finally:
        for setter, threads in zip(setters, before, strict=True):
            setter(ctypes.c_int(threads))
