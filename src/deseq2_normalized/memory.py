"""Freed memory kept for reuse while a table is read and checked (glibc's malloc only).

A table of 60,000 genes x 200 samples makes temporaries of about 100 MB each. glibc hands
blocks that large out as fresh ``mmap`` regions and returns them on ``free``, so every
temporary is paid again in page faults: on virtual machines the largest share of the
check's time. :func:`retained_memory` tells malloc to serve them from its heap and keep what
is freed, for the commands that never start R; R's own allocations are left to glibc's
defaults, as under ``Rscript``. Within it numpy also stops asking for transparent huge pages
(see :func:`_numpy_huge_pages`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Iterator

import numpy as np

log = logging.getLogger(__name__)

# mallopt() parameters and glibc's defaults (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
_DEFAULT_MMAP_MAX = 65536
_TRIM_KEEP_ALL = 2**31 - 1  # the largest value mallopt's int takes


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (raises AttributeError outside glibc)
    except (OSError, AttributeError):
        return None
    return libc


@contextlib.contextmanager
def retained_memory() -> Iterator[None]:
    """Within the block, large blocks come from malloc's heap and freed ones stay there for reuse.

    Afterwards glibc's default limits are set again and the heap's free memory is returned
    to the system (``malloc_trim``); malloc's adaptive mmap threshold stays off for the rest of
    the process, so ``run`` (which embeds R) does not use this. Outside glibc (musl, macOS)
    this does nothing.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_KEEP_ALL)
    huge_pages = _numpy_huge_pages(False)
    try:
        yield
    finally:
        _numpy_huge_pages(huge_pages)
        libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)


def _numpy_huge_pages(enabled: bool) -> bool:
    """Set whether numpy asks for transparent huge pages for its large arrays; return the previous setting.

    Memory a check touches for the first time is paid in page faults. A huge page's fault is
    cheap while the kernel has free 2 MiB pages and dear when it must compact memory for one:
    on this project's 2-core VM a fresh 92 MB array cost 0.01-0.31 s of system time with huge
    pages and 0.04-0.06 s without, in alternating runs. Without numpy's switch (a numpy that
    has none) nothing changes.
    """
    switch = getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
    if switch is None:
        return enabled
    return bool(switch(enabled))
