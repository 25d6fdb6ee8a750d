"""Progress lines on stderr: one per stage, with its time."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

log = logging.getLogger("deseq2_normalized")


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Log ``name`` when a stage starts and its wall time when it ends.

    Parameters
    ----------
    name
        What the stage does, e.g. ``"fitting 14599 genes x 7 samples"``.
    """
    log.info("%s ...", name)
    start = time.perf_counter()
    yield
    log.info("%s: done in %.1f s", name, time.perf_counter() - start)
