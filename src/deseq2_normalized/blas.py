"""Thread control of numpy's BLAS: :func:`one_blas_thread` runs a block on one OpenBLAS thread."""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: (set, get) thread-count functions of the OpenBLAS builds numpy ships with or links to.
_OPENBLAS_THREAD_FUNCTIONS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


def _openblas_libraries() -> list[Path]:
    """OpenBLAS libraries loaded in this process: numpy's own (wheels) and any other mapped one."""
    found = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("*openblas*"))
    with contextlib.suppress(OSError), open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        found += [Path(line.split()[-1]) for line in maps if "openblas" in line.lower() and "/" in line]
    return list(dict.fromkeys(p for p in found if p.is_file()))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run numpy's BLAS on one thread inside the block (when it is OpenBLAS), then restore it.

    The sample plots need a few small BLAS calls (the PCA's SVD of samples x 500 genes and
    the Gram matrix of the sample distances): milliseconds on one thread, but on a machine
    whose cores are busy OpenBLAS's thread pool waits its turn for each of them. At 60,000
    genes x 200 samples on 2 busy cores (load 3-4) the SVD took 2.3-2.9 s instead of 0.01 s
    and the Gram matrix 1.2 s instead of 0.06 s. Without OpenBLAS (or without its thread
    functions) the block runs unchanged.
    """
    restore: list[tuple[Any, int]] = []
    for path in _openblas_libraries():
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_THREAD_FUNCTIONS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                restore.append((setter, int(getter())))
                setter(ctypes.c_int(1))
                break
    try:
        yield
    finally:
        for setter, threads in reversed(restore):
            setter(ctypes.c_int(threads))
