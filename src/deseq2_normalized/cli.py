"""Command-line interface: a thin shell over :mod:`deseq2_normalized.analysis`.

``main(argv) -> int`` parses arguments, configures logging and maps the package's
exceptions to exit codes in one place (2 usage or input, 1 analysis).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from deseq2_normalized import __version__, interface, rbackend
from deseq2_normalized.choices import PLOT_FORMATS, allowed
from deseq2_normalized.design import CONTROL_NAMES
from deseq2_normalized.errors import DESeq2NormalizedError, InputError
from deseq2_normalized.options import AnalysisOptions, OptionText, cli_flag, default, described
from deseq2_normalized.progress import stage

if TYPE_CHECKING:
    import pandas as pd

    from deseq2_normalized.reader import CountTable
    from deseq2_normalized.results import CheckResult, InputNames
    from deseq2_normalized.samplesheet import SampleSheet

log = logging.getLogger("deseq2_normalized")


class _UsageError(InputError):
    """argparse's complaints, raised instead of exiting so that main() maps them."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _contrast(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3) or not all(parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not FACTOR,NUMERATOR,DENOMINATOR or NUMERATOR,DENOMINATOR")
    # Two parts: the factor of interest, named once the design is known (planning.settle_request).
    return ("", parts[0], parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


def _columns(text: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"'{text}' is not COLUMN[,COLUMN...]")
    return names


def _group(text: str) -> tuple[str, list[int]]:
    level, sep, cols = text.partition("=")
    try:
        numbers = [int(c) for c in cols.split(",") if c.strip()]
    except ValueError:
        numbers = []
    if not sep or not level.strip() or not numbers:
        raise argparse.ArgumentTypeError(f"'{text}' is not LEVEL=COLUMN,COLUMN,...")
    return level.strip(), numbers


def _fraction(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


#: How the command line parses a field's value, by the field's type (a list of names for a tuple of them).
_VALUE_TYPES: dict[str, Callable[[str], Any]] = {"float": _fraction, "int": int, "tuple[str, ...]": _columns}


def _analysis_option(parser: argparse.ArgumentParser, name: str, shown: OptionText) -> None:
    """Declare the option of :class:`AnalysisOptions` field ``name``, everything read from the field.

    ``dest`` is the field and the default is the field's; help and metavar are its
    :class:`~deseq2_normalized.options.OptionText`. The flag is :func:`cli_flag`: the field's
    name with dashes, ``--no-`` and the name for a switch that is on by default. The field's
    type (its annotation's text) gives the rest: the choices of a ``Literal`` type, the parser
    of a number or of a comma-separated list of names, ``store_true`` or ``store_false`` for a
    ``bool``.
    """
    value = default(name)
    kind = _FIELD_TYPES[name]
    extra: dict[str, Any] = {} if shown.metavar is None else {"metavar": shown.metavar}
    if kind == "bool":
        extra["action"] = "store_false" if value else "store_true"
    elif kind in _VALUE_TYPES:
        extra["type"] = _VALUE_TYPES[kind]
    elif allowed(kind) is not None:
        extra["choices"] = allowed(kind)
    parser.add_argument(cli_flag(name), dest=name, default=value, help=shown.help, **extra)


def _analysis_options(parser: argparse.ArgumentParser, *, every_command: bool) -> None:
    """Declare, in field order, the options of the fields with a help text: those of every command, or of ``run``."""
    for f, shown in described(where="cli"):
        if shown.every_command == every_command:
            _analysis_option(parser, f.name, shown)


#: The type of each :class:`AnalysisOptions` field, as its annotation's text (``"float"``, ``"FitType"``).
_FIELD_TYPES = {f.name: str(f.type) for f in fields(AnalysisOptions)}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``deseq2-normalized``.

    The options of the analysis are declared from the :class:`AnalysisOptions` fields that have
    a help text, in field order (:func:`_analysis_options`; help texts show the field's default
    with ``%(default)s``), so that :meth:`AnalysisOptions.from_namespace` builds the options
    from the parsed arguments.
    """
    parser = _Parser(
        prog="deseq2-normalized",
        description="DESeq2 differential expression on a count matrix that is already DESeq2-normalized.",
    )
    parser.add_argument("--version", action="store_true", help="print the package, DESeq2 and R versions")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument(
        "--counts",
        required=True,
        type=Path,
        metavar="FILE",
        help="normalized count matrix: gene IDs in the first column, one column per sample (text columns after "
        "the gene IDs are kept as annotation); tab-, comma- or semicolon-separated text (decimal commas as from "
        "write.csv2 too), optionally gzipped, or an Excel workbook (.xlsx)",
    )
    common.add_argument(
        "--sheet",
        metavar="NAME",
        help="when the counts file is an Excel workbook (.xlsx): the sheet to read (default: the first)",
    )
    common.add_argument(
        "--transposed",
        action="store_true",
        help="the counts table has samples as rows and genes as columns: transpose it when reading",
    )
    common.add_argument(
        "--counts-name",
        metavar="NAME",
        help="what messages, the report and diagnostics call the counts file (default: its path), "
        "e.g. a Galaxy dataset name",
    )
    common.add_argument(
        "--samples-name",
        metavar="NAME",
        help="what messages and the report call the sample sheet (default: its path)",
    )
    _analysis_options(common, every_command=True)
    # strict is three-valued (None: stop when auto falls back to rounding, go on for --method round).
    common.add_argument(
        "--strict",
        dest="strict",
        action="store_const",
        const=True,
        default=None,
        help="stop with exit code 1 whenever the table would be rounded with size factors 1 and the size-factor "
        "check fails, --method round included (default: stop when --method auto would round, go on with a warning "
        "for --method round)",
    )
    common.add_argument(
        "--no-strict",
        dest="strict",
        action="store_const",
        const=False,
        help="go on with the rounding workaround, with a warning, even when the size-factor check fails",
    )
    common.add_argument(
        "--interface",
        choices=interface.INTERFACES,
        default=interface.CLI,
        help="how messages and the report name the options: command-line flags (cli, default) or the "
        "Galaxy tool form's fields (galaxy)",
    )
    common.add_argument("--quiet", action="store_true", help="print warnings and errors only")
    common.add_argument("--verbose", action="store_true", help="also print R's console output")

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run DESeq2 on the normalized matrix",
        description="Recover the raw counts from the normalized matrix where its digits allow (else round it and "
        "set every size factor to 1), then run DESeq2.",
    )
    src = run.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--samples",
        type=Path,
        metavar="FILE",
        help="sample sheet: a 'sample' column (or the first column) and design variables",
    )
    src.add_argument(
        "--group",
        action="append",
        type=_group,
        metavar="LEVEL=COLS",
        help="instead of a sample sheet: a condition level and the 1-based column numbers of its "
        "samples in the counts file (column 1 holds gene IDs); repeat per level, the first "
        "given is the numerator",
    )
    run.add_argument("--out-dir", required=True, type=Path, metavar="DIR", help="folder for the outputs")
    run.add_argument(
        "--factor",
        metavar="COLUMN",
        help="the sample-sheet column whose levels are compared, by name or by its 1-based number among all "
        "columns of the sheet file (the sample-name column is 1 when it comes first); without --design the design "
        "becomes '~ BLOCKING... + FACTOR', with --design it must be one of the design's variables",
    )
    run.add_argument(
        "--blocking",
        action="append",
        default=[],
        metavar="COLUMN[,COLUMN...]",
        help="with --factor: sample-sheet columns to adjust for, by name or number as for --factor; repeatable or "
        "comma-separated. With --test lrt the reduced design defaults to '~ BLOCKING...' ('~ 1' without them)",
    )
    run.add_argument(
        "--batch-factors",
        type=Path,
        metavar="FILE",
        help="covariates of unwanted variation, one row per sample, as the RUVSeq tool writes them ('identifier', "
        "'condition', 'W_1', ...; svaseq's SV columns alike): the first column names the samples, 'condition' and "
        "the sample sheet's own columns are left out, the others come first in the design, as in the IUC DESeq2 "
        "tool (with --design or --reduced, name them in the formula)",
    )
    run.add_argument(
        "--batch-factors-name", metavar="NAME", help="what messages call the batch-factor file (default: its path)"
    )
    run.add_argument(
        "--contrast",
        dest="contrasts",
        action="append",
        type=_contrast,
        metavar="[FACTOR,]NUM,DEN",
        help="contrast to report; repeatable (default: every level of the factor of interest against the "
        "reference). Without FACTOR: the factor of interest, --factor's column or else the design's last variable",
    )
    run.add_argument(
        "--pick-reference",
        action="store_true",
        help="without --reference: take the level named like a control (" + ", ".join(CONTROL_NAMES[:8]) + ", ...) "
        "as the reference and say so; stop when no level is",
    )
    # The analysis options, in field order (options.AnalysisOptions).
    _analysis_options(run, every_command=False)
    run.add_argument("--save-rds", action="store_true", help="also save the fitted DESeqDataSet as model.rds")
    run.add_argument(
        "--no-header",
        dest="header",
        action="store_false",
        help="write the results tables without their header line (every line a gene, as tools such as "
        "'Annotate DESeq2/DEXSeq output tables' read them)",
    )
    run.add_argument(
        "--galaxy-metadata",
        type=Path,
        metavar="FILE",
        help="also write the column names of every table as Galaxy's tool-provided metadata (galaxy.json) to FILE, "
        "for the Galaxy tool",
    )
    run.add_argument(
        "--report",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write report.html, a self-contained HTML report with every plot (default: on; --no-report: off)",
    )
    run.add_argument(
        "--report-form",
        choices=REPORT_FORMS,
        default="single",
        help="single: report.html, one self-contained file (default); files: report/report.html with its plots, "
        "style sheet and script as files beside it, which survives HTML cleaning such as Galaxy's",
    )
    run.add_argument(
        "--plots",
        choices=PLOT_FORMATS,
        default="both",
        help="plot files: png (one PNG per plot in plots/), pdf (all in plots.pdf), both (default) or none",
    )

    check = sub.add_parser(
        "check",
        parents=[common],
        help="validate the matrix and run the size-factor check",
        description="Reading, validation and the size-factor check only; no fitting.",
    )
    check.add_argument("--samples", type=Path, metavar="FILE", help="sample sheet to match against the matrix")
    check.add_argument("--json", type=Path, metavar="FILE", help="write the verdict and size factors as JSON")
    _add_recover_parser(sub, common)
    return parser


def _add_recover_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``recover`` subcommand: the table read and classified as ``check`` does, the recovered counts written."""
    recover = sub.add_parser(
        "recover",
        parents=[common],
        help="write the raw integer counts recovered from the normalized matrix, for any count tool",
        description="Reading, validation and the table's classification as in 'check'; then the raw counts "
        "recovered from the table are written as a tab-separated matrix (gene_id, then one column per sample, every "
        "gene in input order) for edgeR, limma-voom, DESeq2 or any tool that takes raw counts. Exit code 2, writing "
        "nothing, unless every sample is recovered exactly or bounded (then each undetermined count is the nearest "
        "whole number to the midpoint of its consistent counts).",
    )
    recover.add_argument(
        "--samples", type=Path, metavar="FILE", help="sample sheet: only its samples are read and written"
    )
    recover.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="FILE",
        help="the recovered count matrix to write (replaced only when the recovery succeeds)",
    )


class _OneLineFormatter(logging.Formatter):
    """One record, one line: names from the input (sample, gene, level) may hold line breaks."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        # Tracebacks (--verbose, internal errors) are added after this and keep their lines.
        return one_line(interface.translate(super().formatMessage(record)))


def _configure_logging(quiet: bool, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter("deseq2-normalized: %(message)s"))
    root = logging.getLogger("deseq2_normalized")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    # R's console lines are DEBUG: shown only with --verbose.


def _input_names(args: argparse.Namespace) -> InputNames:
    """What messages and the report call the inputs: ``--counts-name``/``--samples-name`` or the paths."""
    from deseq2_normalized.results import InputNames

    sheet = (args.samples_name or str(args.samples)) if args.samples else None
    batch = getattr(args, "batch_factors", None)
    batch_name = (args.batch_factors_name or str(batch)) if batch else None
    return InputNames(args.counts_name or str(args.counts), sheet, batch_name)


def _read_counts(args: argparse.Namespace, names: InputNames, samples: SampleSheet | None) -> CountTable:
    """Read the counts: with a sample sheet only its samples, with ``--group`` only the grouped columns."""
    from deseq2_normalized import reader

    groups = getattr(args, "group", None)
    return reader.read_count_table(
        args.counts,
        names.counts,
        samples=list(samples.table.index) if samples is not None else None,
        columns=[c for _, cols in groups for c in cols] if groups and samples is None else None,
        sheet=args.sheet,
        transposed=args.transposed,
    )


def _read_and_check(
    args: argparse.Namespace, names: InputNames, on_negative: Callable[[pd.DataFrame], None]
) -> CheckResult:
    """Read the inputs and check the table as ``check`` and ``recover`` do; ``on_negative`` sees a table below zero."""
    from deseq2_normalized import analysis, reader

    with stage("reading"):
        samples = reader.read_samples(args.samples, names.sample_sheet) if args.samples else None
        counts = _read_counts(args, names, samples).values
    if (counts.to_numpy() < 0).any():
        on_negative(counts)
    with stage("checking"):
        return analysis.check_table(counts, samples, sf_tolerance=args.sf_tolerance, source=names.counts)


def _cmd_check(args: argparse.Namespace) -> int:
    from deseq2_normalized import classify, validate
    from deseq2_normalized.design import default_design
    from deseq2_normalized.planning import check_replicates

    names = _input_names(args)

    def refuse(counts: pd.DataFrame) -> None:
        # Not a table of counts at all: say what it looks like, then fail as bad input.
        print(classify.classify_table(counts).text())
        column = str(counts.columns[int((counts.to_numpy() < 0).any(axis=0).argmax())])
        raise InputError(
            f"{names.counts}: column '{column}' has values below zero; this is not a table of counts"
            f"{validate.results_column_hint(column)}"
        )

    result = _read_and_check(args, names, refuse)
    if result.samples is not None:
        # run refuses a design without replicates before R starts; check says so for the default design.
        check_replicates(result.samples, default_design([str(c) for c in result.samples.columns]))
    print(result.verdict)
    print()
    print(result.size_factors.table.to_string(float_format=lambda x: f"{x:.4f}"))
    if result.classification is not None:
        print()
        print(result.classification.text())
    if args.json:
        try:
            args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--json {args.json}: cannot be written ({exc.strerror or exc})") from None
    if result.default_method == "stop":
        log.warning(
            "size-factor check FAILED for %s: run --method auto stops on this table",
            ", ".join(result.size_factors.failing),
        )
        if args.strict:
            result.stop_if_failed(result.default_method)
    elif result.default_method == "refuse":
        log.warning("run refuses this table: it is not counts (%s)", result.classification.detail)  # type: ignore[union-attr]
    return 0


def _cmd_recover(args: argparse.Namespace) -> int:
    """``recover``: read and classify as ``check`` does (messages on stderr), write the recovered counts or stop."""
    from deseq2_normalized import classify, recovered_counts

    recovered_counts.check_writable(args.out)
    names = _input_names(args)
    # Not counts at all: say what it looks like; the check then stops on the first negative cell.
    result = _read_and_check(args, names, lambda counts: _log_lines(classify.classify_table(counts).text()))
    log.info("%s", result.verdict)
    classification = result.classification
    if classification is not None:
        _log_lines(classification.text())
    matrix = recovered_counts.recovered_counts(classification, names.counts)
    assert classification is not None and classification.recovery is not None
    log.info("recovery: %s", classification.recovery.summary())
    with stage("writing"):
        recovered_counts.write_file(matrix, args.out)
    log.info("recovered counts of %d genes x %d samples written to %s", *matrix.shape, args.out)
    return 0


def _log_lines(text: str) -> None:
    """Log a text of several lines (a classification) as one record per line."""
    for line in text.splitlines():
        log.info("%s", line)


def _cmd_run(args: argparse.Namespace) -> int:
    # R starts, and DESeq2 loads in the background, before numpy and pandas are imported:
    # that load is the longest fixed cost of a run, and the imports and the reading of the
    # input overlap with it.
    rbackend.start_in_background()
    from deseq2_normalized import analysis, outputs, reader, validate
    from deseq2_normalized.samplesheet import SampleSheet, with_batch_factors

    if args.factor is not None and not args.samples:
        raise InputError("--factor names a sample-sheet column: it needs --samples")
    out_dir = outputs.prepare_out_dir(args.out_dir)
    names = _input_names(args)
    with stage("reading"):
        if args.samples:
            samples = reader.read_samples(args.samples, names.sample_sheet)
            table = _read_counts(args, names, samples)
        else:
            table = _read_counts(args, names, None)
            # Column numbers count every column of the file (annotation too); samples in no group are left out.
            samples = SampleSheet.from_table(
                validate.samples_from_groups(args.group, list(table.file_columns), names.counts)
            )
        batch_columns: tuple[str, ...] = ()
        if args.batch_factors:
            batch = reader.read_samples(args.batch_factors, names.batch_factors)
            samples, batch_columns = with_batch_factors(samples, batch)
        counts = table.values
    reference = args.reference
    if args.group and reference is None and len(args.group) > 1:
        reference = args.group[1][0]  # the second group given is the denominator
    options = AnalysisOptions.from_namespace(
        args,
        reference=reference,
        pick_reference=args.pick_reference and not args.group,
        batch_columns=batch_columns,
        # The rounded-table dispersion fit only feeds a plot: skip it when nothing is drawn.
        compare_rounded=args.report or args.plots != "none",
    )
    # Rounding-sensitivity refits may still run in forked R processes when the analysis returns:
    # the plots are drawn meanwhile, and write_outputs collects them before writing the tables.
    result = analysis.run_analysis(
        counts, samples, options, source=names.counts, notes=table.notes, wait_for_refits=False
    )
    try:
        with stage("writing"):
            columns = outputs.write_outputs(
                result,
                out_dir,
                save_rds=args.save_rds,
                plots=args.plots,
                report=args.report,
                inputs=names,
                annotation=table.annotation,
                header=args.header,
                report_form=args.report_form,
            )
            if args.galaxy_metadata:
                outputs.write_galaxy_metadata(columns, args.galaxy_metadata)
    finally:
        result.stop_refits()  # when writing stopped before collecting them
    log.info("outputs written to %s", out_dir)
    return 0


#: Values of ``--report-form``.
REPORT_FORMS = ("single", "files")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for usage or input errors, 1 for analysis failures.
    """
    # --interface holds for this call only: a program that calls main() more than once (or a
    # test run) gets back the naming it had.
    before = interface.current()
    try:
        return _main(argv)
    finally:
        interface.set_interface(before)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            # Read without loading DESeq2: Galaxy runs --version before every job of the tool.
            from deseq2_normalized.rbackend import installed_versions

            v = installed_versions()
            print(f"deseq2-normalized {__version__} (DESeq2 {v['DESeq2']}, R {v['R']}, rpy2 {v['rpy2']})")
            return 0
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        interface.set_interface(args.interface)
        _configure_logging(args.quiet, args.verbose)
        if args.command == "run":
            return _cmd_run(args)
        from deseq2_normalized.memory import retained_memory

        with retained_memory():  # check and recover never start R
            return _cmd_check(args) if args.command == "check" else _cmd_recover(args)
    except DESeq2NormalizedError as exc:
        print(f"deseq2-normalized: error: {one_line(interface.translate(str(exc)))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("deseq2-normalized: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("deseq2-normalized: error: out of memory; the input is too large for this machine", file=sys.stderr)
        return 1
    except Exception as exc:
        # Last resort, so that a Galaxy user never sees a traceback: every expected failure is a
        # DESeq2NormalizedError raised where the problem is known. Reaching this is a bug; the
        # traceback is logged with --verbose.
        log.debug("internal error", exc_info=True)
        print(
            f"deseq2-normalized: error: internal error ({type(exc).__name__}: {one_line(str(exc))}); please report it",
            file=sys.stderr,
        )
        return 1


def one_line(text: str) -> str:
    r"""``text`` with line breaks and other control characters escaped (``\n``), so it prints as one line."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
    )


def console_main() -> NoReturn:
    """The ``deseq2-normalized`` command: :func:`main`, then a quick exit with its code.

    Exit handlers still run (R ends as under ``Rscript`` and removes its temporary folder)
    and the output streams are flushed, but the interpreter's teardown of every loaded
    module is skipped: about 0.3 s with pandas and rpy2 loaded, in a process that ends.
    """
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken pipe: nothing to lose
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    console_main()
