"""The values that options with a fixed set of choices accept.

Each set is written once, as a ``Literal`` type (what the options are annotated with);
the tuples of allowed values (argparse's ``choices``, the validation) are read from those
types. Kept apart from the modules that use them, and free of numpy and pandas, so that
the command line can be parsed (and R started) before the heavy imports.
"""

from __future__ import annotations

from typing import Literal, get_args, get_origin

Test = Literal["wald", "lrt"]
FitType = Literal["parametric", "local", "mean", "glmGamPoi"]
ShrinkType = Literal["none", "normal", "ashr", "apeglm"]
Transform = Literal["vst", "rlog", "both", "none"]
#: ``estimateSizeFactors(type=)`` where DESeq2 estimates the size factors.
SfType = Literal["ratio", "poscounts", "iterate"]
Method = Literal["round", "recover", "estimated", "auto"]
#: Which plot files to publish.
PlotFormat = Literal["png", "pdf", "both", "none"]

TESTS: tuple[str, ...] = get_args(Test)
FIT_TYPES: tuple[str, ...] = get_args(FitType)
SHRINK_TYPES: tuple[str, ...] = get_args(ShrinkType)
TRANSFORMS: tuple[str, ...] = get_args(Transform)
METHODS: tuple[str, ...] = get_args(Method)
SF_TYPES: tuple[str, ...] = get_args(SfType)
#: Values of ``plots``: which plot files to publish.
PLOT_FORMATS: tuple[str, ...] = get_args(PlotFormat)


def allowed(type_name: str) -> tuple[str, ...] | None:
    """The values of the ``Literal`` type of this module named ``type_name``; None for any other name.

    Parameters
    ----------
    type_name
        A type's name as written in an annotation, e.g. ``"FitType"`` (annotations are kept
        as text under ``from __future__ import annotations``).

    Returns
    -------
    tuple of str or None
        The allowed values, or None when ``type_name`` is not a choice type (``"str"``,
        ``"float"``, ...).
    """
    kind = globals().get(type_name)
    return get_args(kind) if get_origin(kind) is Literal else None
