"""The embedded R's life in this process: start, DESeq2 and helper load, console, end.

R starts once per process, through rpy2, and DESeq2 loads once (in a background thread
when :func:`start_in_background` was called). The R helpers, ``R/deseq2_helpers.R`` (package
data), are then sourced into a private environment, which :func:`session` hands to
:mod:`deseq2_normalized.rbackend`, the module that calls them. While R runs, its console is
routed into Python logging (logger ``deseq2_normalized.r_console``, lines at DEBUG) and R
errors become :class:`~deseq2_normalized.errors.RError` carrying R's message. R ends at
exit as under ``Rscript``.

rpy2 is imported only here and in :mod:`deseq2_normalized.rbackend`, and only inside
functions, so that importing the package needs neither R nor rpy2.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from deseq2_normalized.errors import AnalysisError, RError

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

#: R's console output, one record a line (DEBUG), and the warnings of R helpers (WARNING).
r_console_log = logging.getLogger("deseq2_normalized.r_console")
_F = TypeVar("_F", bound=Callable[..., Any])


class _ConsoleToLog:
    """Collects R console chunks into lines and logs each line."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.buffer = ""

    def __call__(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                r_console_log.log(self.level, "%s", line.rstrip())


@contextlib.contextmanager
def _console_and_errors() -> Iterator[None]:
    """Route R's console into logging and R errors into :class:`RError`."""
    from rpy2.rinterface_lib import callbacks
    from rpy2.rinterface_lib.embedded import RRuntimeError

    saved = (callbacks.consolewrite_print, callbacks.consolewrite_warnerror)
    callbacks.consolewrite_print = _ConsoleToLog(logging.DEBUG)
    callbacks.consolewrite_warnerror = _ConsoleToLog(logging.DEBUG)
    try:
        yield
    except RRuntimeError as exc:
        raise RError(_r_error_text(exc)) from None
    finally:
        callbacks.consolewrite_print, callbacks.consolewrite_warnerror = saved


@contextlib.contextmanager
def session() -> Iterator[Any]:
    """Use R: yield the helper environment, R's console routed into logging, R errors raised as :class:`RError`.

    Yields
    ------
    rpy2.robjects.Environment
        The environment ``R/deseq2_helpers.R`` was sourced into (see :func:`helpers`).
    """
    with _console_and_errors():
        yield helpers()


@contextlib.contextmanager
def base_r() -> Iterator[Any]:
    """Use R without DESeq2: yield ``rpy2.robjects`` with R started but DESeq2 not loaded for it.

    For what base R answers alone (``--version``): starting R takes a fraction of a second,
    loading DESeq2 several. Waits for a background DESeq2 load first, so that one thread uses R
    at a time. R's console goes to logging and R errors are raised as :class:`RError`.

    Yields
    ------
    module
        ``rpy2.robjects``.
    """
    if _loading is not None:
        helpers()
    ro = _start_r()
    with _console_and_errors():
        yield ro


def _r_error_text(exc: Exception) -> str:
    text = str(exc).strip()
    # rpy2 gives "Error in f(x) : message"; keep R's message, drop the call.
    if text.startswith("Error in ") and " : " in text:
        text = text.split(" : ", 1)[1]
    elif text.startswith("Error: "):
        text = text[len("Error: ") :]
    return text


#: Whether rpy2's exit handler has been replaced by :func:`_end_r`.
_ends_like_rscript = False


def _start_r() -> Any:
    """Start the embedded R (once per process); return ``rpy2.robjects``."""
    global _ends_like_rscript
    try:
        with _library_path_from_ldpaths(), _initial_vector_heap():
            import rpy2.robjects as ro
    except Exception as exc:  # rpy2 raises several kinds when R cannot be loaded
        raise AnalysisError(f"cannot start R through rpy2: {exc}") from None
    if not _ends_like_rscript:
        from rpy2.rinterface_lib import embedded

        atexit.unregister(embedded.endr)
        atexit.register(_end_r)
        _ends_like_rscript = True
    return ro


#: R's initial vector heap (``R_VSIZE``) unless the environment sets one. R's default, 64 MB, is
#: outgrown by DESeq2's load alone; from there the fit of a 20,000 x 12 table spent 2.3-2.6 s of
#: 7.7-8.2 s in R's collector, against 0.15 s with 256 MB (benchmarks/RESULTS.md's notes).
INITIAL_VSIZE = "256M"


@contextlib.contextmanager
def _initial_vector_heap() -> Iterator[None]:
    """While R starts, let it read :data:`INITIAL_VSIZE` as ``R_VSIZE`` (a user's own value wins).

    R reads the variable once, when it starts; the environment is restored afterwards, so
    no other program this process starts sees the change.
    """
    if "R_VSIZE" in os.environ or "rpy2.rinterface_lib.embedded" in sys.modules:
        yield
        return
    os.environ["R_VSIZE"] = INITIAL_VSIZE
    try:
        yield
    finally:
        os.environ.pop("R_VSIZE", None)


@contextlib.contextmanager
def _library_path_from_ldpaths() -> Iterator[None]:
    """While rpy2 is first imported, let it read R's library path with :func:`_ldpaths_library_path`.

    rpy2 runs a whole ``Rscript`` at import (0.3 s, a tenth of R's part of the start of a
    run) only to learn what R's front end adds to ``LD_LIBRARY_PATH``.
    """
    if "rpy2.rinterface_lib.openrlib" in sys.modules:  # imported already: nothing to learn
        yield
        return
    from rpy2 import situation

    own = situation.r_ld_library_path_from_subprocess
    situation.r_ld_library_path_from_subprocess = functools.partial(_ldpaths_library_path, fallback=own)
    try:
        yield
    finally:
        situation.r_ld_library_path_from_subprocess = own


def _ldpaths_library_path(r_home: str, fallback: Callable[[str], str] | None = None) -> str:
    """``LD_LIBRARY_PATH`` as R's front end sets it: ``R_HOME/etc/ldpaths``, sourced by ``sh``.

    That file is where the ``R`` and ``Rscript`` front ends take the value from; reading
    it takes milliseconds, against 0.3 s for starting an R to print it.

    Parameters
    ----------
    r_home
        R's home folder (``R RHOME``).
    fallback
        Called with ``r_home`` when the file is missing or ``sh`` fails.

    Returns
    -------
    str
        The value, or ``fallback``'s (``""`` without one).
    """
    ldpaths = os.path.join(r_home, "etc", "ldpaths")
    if os.path.isfile(ldpaths):
        # The file's path is sh's $0, never part of the script.
        script = '. "$0" && printf %s "$LD_LIBRARY_PATH"'
        env = {**os.environ, "R_HOME": r_home}
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            proc = subprocess.run(["sh", "-c", script, ldpaths], env=env, capture_output=True, text=True, timeout=60)
            if proc.returncode == 0:
                return proc.stdout
    return fallback(r_home) if fallback is not None else ""


def _end_r() -> None:
    """End R at exit as ``Rscript`` does: exit finalizers, graphics devices, R's temporary folder.

    Replaces rpy2's exit handler, which adds a full garbage collection first: over a second
    with DESeq2 loaded, for nothing, as the process is about to end.
    """
    from rpy2.rinterface_lib import embedded, openrlib

    ended = embedded.RPY_R_Status.ENDED.value
    with openrlib.rlock:
        if embedded.rpy2_embeddedR_isinitialized & ended:
            return
        openrlib.rlib.R_dot_Last()
        openrlib.rlib.Rf_endEmbeddedR(0)
        embedded.rpy2_embeddedR_isinitialized |= ended


def _helpers_file() -> Traversable:
    """``R/deseq2_helpers.R`` among the package's files (installed or editable)."""
    from importlib import resources

    return resources.files("deseq2_normalized") / "R" / "deseq2_helpers.R"


def _load_deseq2() -> Any:
    """Load DESeq2 into the running R and source the helpers into an environment of their own."""
    from importlib import resources

    ro = _start_r()
    ok = ro.r("x <- suppressPackageStartupMessages(requireNamespace('DESeq2', quietly = TRUE)); x")[0]
    if not ok:
        raise AnalysisError("the R package DESeq2 is not installed (Debian: apt-get install r-bioc-deseq2)")
    ro.r("suppressPackageStartupMessages(library(DESeq2))")
    env = ro.r["new.env"](parent=ro.globalenv)
    # The file's path reaches R as a string vector: R reads the file, nothing is pasted into code.
    with resources.as_file(_helpers_file()) as path:
        ro.r["sys.source"](file=ro.StrVector([str(path)]), envir=env)
    return env


@dataclass(frozen=True)
class _Loading:
    """DESeq2 being loaded by a background thread (see :func:`start_in_background`)."""

    thread: threading.Thread
    done: Future[Any]


#: The helper environment once DESeq2 is loaded.
_env: Any = None
_loading: _Loading | None = None


def helpers() -> Any:
    """The helper environment: waits for a background load, or loads DESeq2 here (once per process).

    Returns
    -------
    rpy2.robjects.Environment
        The environment ``R/deseq2_helpers.R`` was sourced into.
    """
    global _env, _loading
    if _env is None:
        loading, _loading = _loading, None
        if loading is None:
            _env = _load_deseq2()
        else:
            _env = loading.done.result()
            # The loader thread is over before R is used here: R may fork this process (BiocParallel,
            # the rounding-sensitivity refits), and a fork while another thread holds Python's lock
            # would leave the forked copy unable to call back into Python.
            loading.thread.join()
    return _env


def loading() -> bool:
    """Whether DESeq2 is still being loaded in the background (see :func:`start_in_background`)."""
    return _env is None and _loading is not None and not _loading.done.done()


def uses_r(func: _F) -> _F:
    """Mark a function that calls into R: it first waits for (or does) the DESeq2 load."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        helpers()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def start_in_background() -> None:
    """Start R and load DESeq2 in a background thread; return while DESeq2 loads.

    Loading DESeq2 is the largest fixed cost of a run (seconds, the same as under
    ``Rscript``). Started first, it overlaps with importing numpy and pandas and with
    reading and checking the input, which run meanwhile: R evaluates in C with Python's
    lock released.
    No user data reaches R here, and the first call into R waits for the load to finish,
    so only one thread ever uses R at a time. Does nothing when DESeq2 is loaded or loading,
    or when R cannot be started: the first call into R then reports why, after the input
    has been checked.
    """
    global _loading
    if _env is not None or _loading is not None:
        return
    # R itself starts in the calling thread: rpy2 sets up signal handling from there.
    try:
        _start_r()
    except AnalysisError:
        return
    done: Future[Any] = Future()
    # rpy2 keeps its conversion rules in a context variable: the thread runs in a copy of ours.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(_load_in_background, done), name="DESeq2 loader", daemon=True)
    _loading = _Loading(thread, done)
    # Registered after _end_r (by _start_r above), so it runs first: R must be idle when R ends.
    atexit.register(_stop_loading, _loading)
    thread.start()


def _load_in_background(done: Future[Any]) -> None:
    from rpy2.rinterface_lib import openrlib

    rlib = openrlib.rlib
    # While packages load, R calls R_ProcessEvents, which rpy2 answers in Python, some
    # thousands of times; each call would wait for the main thread to release Python's
    # lock. Ctrl-C is the main thread's meanwhile, so R can do without it until loaded.
    process_events, rlib.ptr_R_ProcessEvents = rlib.ptr_R_ProcessEvents, openrlib.ffi.NULL
    try:
        with _console_and_errors():
            done.set_result(_load_deseq2())
    except BaseException as exc:  # handed to the thread that waits for the result
        done.set_exception(exc)
    finally:
        rlib.ptr_R_ProcessEvents = process_events


def _stop_loading(loading: _Loading, timeout: float = 60.0) -> None:
    """Interrupt an unfinished background load and wait for it (at exit, before R ends)."""
    if not loading.thread.is_alive():
        return
    from rpy2.rinterface_lib import openrlib

    deadline = time.monotonic() + timeout
    while loading.thread.is_alive() and time.monotonic() < deadline:
        openrlib.rlib.R_interrupts_pending = 1
        loading.thread.join(0.05)
    openrlib.rlib.R_interrupts_pending = 0
