"""The package's exceptions; the CLI maps each to an exit code in one place."""

from __future__ import annotations


class DESeq2NormalizedError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


class InputError(DESeq2NormalizedError):
    """Bad input or usage: a file, row, column or sample that cannot be used (exit 2)."""

    exit_code = 2


class AnalysisError(DESeq2NormalizedError):
    """The analysis could not be carried out or must not be trusted (exit 1)."""

    exit_code = 1


class OutputError(DESeq2NormalizedError):
    """Outputs could not be written (disk full, I/O error); nothing was left behind (exit 1)."""

    exit_code = 1


class RError(AnalysisError):
    """R (DESeq2) stopped with an error; the message is R's own."""

    def __init__(self, r_message: str, context: str = "DESeq2") -> None:
        self.r_message = " ".join(r_message.split())
        super().__init__(f"{context} failed in R: {self.r_message}")
