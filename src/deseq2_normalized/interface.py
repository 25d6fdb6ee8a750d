"""How messages and the report name the options: command-line flags or Galaxy form fields.

A Galaxy user never sees ``--method recover``; they see the form's field *How the normalized
table becomes counts*. The command line's ``--interface galaxy`` switches every message and
the report to the form's labels through this one mapping.

Writing a message that names an option::

    from deseq2_normalized.interface import option
    raise InputError(f"... set {option('--method', 'recover')} to recover the raw counts")

gives ``--method recover`` on the command line and
``'How the normalized table becomes counts' = recover`` in Galaxy. Messages that already
spell out a flag are translated as a whole by :func:`translate` (the command line applies it
to every log line and error), so existing messages need no change. An option's label is
declared on its field (:func:`deseq2_normalized.options.option`), the other flags' here; keep
both in step with ``tool/deseq2_normalized.xml`` (``tests/test_galaxy_form.py`` checks them).
"""

from __future__ import annotations

import re

from deseq2_normalized.options import cli_flag, described

CLI = "cli"
GALAXY = "galaxy"
INTERFACES = (CLI, GALAXY)

#: Command-line flag to the Galaxy form's label of the same setting: the labels the options'
#: fields declare (:mod:`deseq2_normalized.options`), and those of the other flags.
GALAXY_LABELS = {
    "--counts": "DESeq2-normalized count matrix",
    "--samples": "Sample sheet",
    "--group": "Group",
    "--factor": "Factor of interest",
    "--blocking": "Blocking factors",
    "--batch-factors": "Batch factors",
    "--contrast": "Comparisons",
    **{cli_flag(f.name): str(shown.galaxy) for f, shown in described(where="galaxy")},
    "--strict": "Stop when the size-factor check fails",
    "--no-strict": "Stop when the size-factor check fails",
    "--no-header": "Output columns headers",
}

# A flag the mapping knows, optionally followed by a plain value (``--method recover``).
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z])(?:([ =])([A-Za-z][\w.-]*))?")
# Words that follow a flag in a sentence without being its value.
_NOT_VALUES = frozenset({"is", "and", "or", "to", "with", "for", "must", "needs", "was", "when", "only", "in", "of"})

_current = CLI


def set_interface(name: str) -> None:
    """Choose how options are named from now on: ``"cli"`` (default) or ``"galaxy"``."""
    global _current
    if name not in INTERFACES:
        raise ValueError(f"interface must be one of {', '.join(INTERFACES)}; got {name!r}")
    _current = name


def current() -> str:
    """The interface in use: ``"cli"`` or ``"galaxy"``."""
    return _current


def option(flag: str, value: str | None = None) -> str:
    """How a message names an option (and the value it should be set to).

    Parameters
    ----------
    flag
        The command-line flag, e.g. ``"--method"``.
    value
        The value, e.g. ``"recover"``; None for a flag without one.

    Returns
    -------
    str
        ``--method recover`` on the command line, ``'How the normalized table becomes
        counts' = recover`` in Galaxy (the flag itself when the form has no such field).
    """
    if _current == GALAXY and flag in GALAXY_LABELS:
        label = f"'{GALAXY_LABELS[flag]}'"
        return f"{label} = {value}" if value is not None else label
    return f"{flag} {value}" if value is not None else flag


def translate(text: str) -> str:
    """``text`` with every known flag (and its value) named as the current interface names it."""
    if _current == CLI:
        return text

    def swap(match: re.Match[str]) -> str:
        flag, sep, value = match.groups()
        if flag not in GALAXY_LABELS:
            return match.group(0)
        if value is None or value in _NOT_VALUES:
            return option(flag) + (f"{sep}{value}" if value is not None else "")
        return option(flag, value)

    return _FLAG.sub(swap, text)
