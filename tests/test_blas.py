"""numpy's BLAS on one thread inside :func:`one_blas_thread`, restored after it."""

from __future__ import annotations

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


def test_the_run_plots_are_drawn_on_one_thread():
    """The run's catalogue draws inside one_blas_thread (see its docstring for why)."""
    import inspect

    from deseq2_normalized import figures

    assert figures.one_blas_thread is blas.one_blas_thread
    assert "with one_blas_thread()" in inspect.getsource(figures.draw_run_plots)
