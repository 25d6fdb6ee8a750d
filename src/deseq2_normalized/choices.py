"""The values that options with a fixed set of choices accept.

Kept apart from the modules that use them, and free of numpy and pandas, so that the
command line can be parsed (and R started) before the heavy imports.
"""

from __future__ import annotations

TESTS = ("wald", "lrt")
FIT_TYPES = ("parametric", "local", "mean", "glmGamPoi")
SHRINK_TYPES = ("none", "normal", "ashr", "apeglm")
TRANSFORMS = ("vst", "rlog", "none")
METHODS = ("round", "recover", "auto")
#: Values of ``plots``: which plot files to publish.
PLOT_FORMATS = ("png", "pdf", "both", "none")
