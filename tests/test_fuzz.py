"""Property-based fuzzing of the reader, the validators and the design parser (hypothesis).

Whatever the bytes, reading and validating either gives a valid matrix or raises the
package's :class:`InputError`; nothing else escapes. Valid tables written in any dialect
(separator, quoting, line ends, BOM, gzip, R's write.table layout) read back exactly.

Runs are derandomized (the same examples on every run, so CI is reproducible) and keep no
example database. Each property test counts the examples it runs and fails unless it ran at
least its share of the budget below, which adds up to more than 2,000 per run.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import re
import string
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from deseq2_normalized.design import parse_design, r_aliases
from deseq2_normalized.errors import InputError
from deseq2_normalized.reader import read_counts, read_samples
from deseq2_normalized.validate import MAX_COUNT, match_samples, validate_counts

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Examples per test: each must run at least this many (see _budget_spent).
BUDGET = {
    "test_valid_tables_read_back_exactly": 600,
    "test_any_counts_file_reads_valid_or_input_error": 800,
    "test_any_sample_sheet_matches_or_input_error": 450,
    "test_any_design_parses_safely_or_input_error": 600,
}

# pandas reads these as missing in the gene-ID column; they are refused as "empty or NA gene ID".
NA_STRINGS = {
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
}  # fmt: skip
SEPARATORS = ["\t", ",", ";"]
LINE_ENDS = ["\n", "\r\n", "\r"]


#: Examples each property test ran in this process (see counted).
RAN: Counter[str] = Counter()


def counted(test: Callable[..., None]) -> Callable[..., None]:
    """Count the examples hypothesis runs through ``test`` (innermost decorator, under ``given``)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        RAN[test.__name__] += 1
        test(*args, **kwargs)

    return run


@pytest.fixture(autouse=True)
def _budget_spent(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a property test that ran fewer examples than its budget (hypothesis may stop early)."""
    name = request.node.originalname
    RAN[name] = 0
    yield
    if name in BUDGET:
        assert RAN[name] >= BUDGET[name], f"{name} ran {RAN[name]} examples; its budget is {BUDGET[name]}"


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder)


# ---------------------------------------------------------------------------------------------
# Writing tables in many dialects


def quote(field: str, sep: str, always: bool) -> str:
    """CSV quoting as R, Excel and pandas write it: quotes doubled inside a quoted field."""
    if always or any(ch in field for ch in (sep, '"', "\n", "\r")) or field != field.strip():
        return '"' + field.replace('"', '""') + '"'
    return field


def render(rows: list[list[str]], sep: str, end: str, always_quote: bool) -> str:
    return "".join(sep.join(quote(f, sep, always_quote) for f in row) + end for row in rows)


def encode(text: str, bom: bool, gz: bool) -> bytes:
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    return gzip.compress(data, mtime=0) if gz else data


# ---------------------------------------------------------------------------------------------
# Strategies

# Names: any printable unicode, with code-like and separator characters made likely.
name_chars = st.one_of(
    st.sampled_from(list(string.ascii_letters + string.digits + "._-`'\"$();,\t \n|~+:*#\\")),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
)
names: st.SearchStrategy[str] = st.text(name_chars, min_size=1, max_size=8).map(str.strip).filter(bool)


def unique_names(n: int, *, gene_ids: bool = False) -> st.SearchStrategy[list[str]]:
    pool = names.filter(lambda s: s not in NA_STRINGS) if gene_ids else names
    unique = st.lists(pool, min_size=n, max_size=n, unique_by=str.casefold)
    # Line breaks are fine in quoted names but a bare '\r' does not survive csv quoting rules in every reader.
    return unique.filter(lambda xs: not any("\r" in x for x in xs))


def count_text(value: float, style: int) -> str:
    if style == 0 and value == int(value):
        return str(int(value))
    if style == 1:
        return repr(value)
    if style == 2:
        return f"{value:.17g}"
    return np.format_float_positional(value, unique=True, trim="-") if style == 3 else repr(value)


values_strategy = st.one_of(
    st.integers(0, 10**6).map(float),
    st.floats(0, MAX_COUNT, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.5, 1e-300, 5e-324, float(MAX_COUNT)]),
)


@st.composite
def valid_tables(draw):
    n_genes = draw(st.integers(2, 6))
    n_samples = draw(st.integers(2, 5))
    genes = draw(unique_names(n_genes, gene_ids=True))
    samples = draw(unique_names(n_samples))
    values = np.array(draw(st.lists(values_strategy, min_size=n_genes * n_samples, max_size=n_genes * n_samples)))
    values = values.reshape(n_genes, n_samples)
    # validate_counts refuses zero-only samples: keep one non-zero value per column.
    row = draw(st.integers(0, n_genes - 1))
    values[row, :] = np.maximum(values[row, :], 1.0)
    style = draw(st.integers(0, 4))
    cells = [[count_text(float(v), style) for v in row] for row in values]
    write_table_layout = draw(st.booleans())  # R's write.table: no header field for the gene column
    header = samples if write_table_layout else [draw(st.sampled_from(["", "gene", "gene_id", "id"])), *samples]
    rows = [header, *([g, *c] for g, c in zip(genes, cells, strict=True))]
    sep = draw(st.sampled_from(SEPARATORS))
    text = render(rows, sep, draw(st.sampled_from(LINE_ENDS)), draw(st.booleans()))
    if draw(st.booleans()):
        text = draw(st.sampled_from(["\n", "\r\n", "\n\n", " \n"])) + text  # blank lines before the header
    data = encode(text, draw(st.booleans()), draw(st.booleans()))
    return data, genes, samples, values


ODD_CELLS = [
    "NA",
    "",
    "NaN",
    "nan",
    "Inf",
    "-Inf",
    "inf",
    "1e400",
    "-0",
    "0x10",
    "1,5",
    "1_000",
    "+3",
    ".5",
    "5.",
    "1e15",
    "2e15",
    "2147483648",
    "2147483647",
    "True",
    "FALSE",
    "null",
    "#N/A",
    " 7 ",
    '"8"',
    "1e-400",
]
# Cells of every form: numbers, huge, negative, missing, infinite, text, padded, quoted.
number_cells = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e20, 1e20).map(lambda x: f"{x:g}"),
    st.integers(0, 400).map(lambda k: "9" * k),
    st.sampled_from(ODD_CELLS),
    st.text(name_chars, max_size=5),
)
plain_counts = st.one_of(st.integers(0, 10**5).map(str), st.floats(0, 1e6).map(repr))
layout_cells = st.one_of(
    plain_counts,
    plain_counts,
    plain_counts,
    number_cells,
    names,
    st.sampled_from(['"', '""', '"a"b', 'a"b', "\\", "\ufeff"]),
)


@st.composite
def any_tables(draw, cells=layout_cells):
    sep = draw(st.sampled_from([*SEPARATORS, " ", "|"]))
    # clean: a valid table but for at most one odd cell; chaos: anything in any cell, ragged rows.
    clean = draw(st.booleans())
    n_cols = draw(st.integers(3 if clean else 1, 5))
    n_rows = draw(st.integers(2 if clean else 0, 6))
    rectangular = clean or draw(st.booleans())
    header = draw(unique_names(n_cols)) if clean else draw(st.lists(names, min_size=n_cols, max_size=n_cols))
    genes = (
        draw(unique_names(n_rows, gene_ids=True)) if clean else draw(st.lists(names, min_size=n_rows, max_size=n_rows))
    )
    rows = [header]
    for gene in genes:
        width = n_cols if rectangular else draw(st.integers(max(1, n_cols - 1), n_cols + 1))
        row_cells = plain_counts if clean else cells
        rows.append([gene, *draw(st.lists(row_cells, min_size=width - 1, max_size=width - 1))])
    if clean and n_rows and draw(st.booleans()):
        rows[draw(st.integers(1, n_rows))][draw(st.integers(1, n_cols - 1))] = draw(number_cells)
    end = draw(st.sampled_from(LINE_ENDS))
    if draw(st.booleans()):
        text = render(rows, sep, end, draw(st.booleans()))
    else:
        text = "".join(sep.join(r) + end for r in rows)  # raw: stray quotes stay stray
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line end after the last row
    kind = draw(st.sampled_from(["utf8", "utf8", "utf8", "bom", "gzip", "truncated_gzip", "utf16", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "utf16":
        return text.encode("utf-16")
    data = encode(text, kind == "bom", kind in ("gzip", "truncated_gzip"))
    if kind == "truncated_gzip":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    return data


# ---------------------------------------------------------------------------------------------
# What a valid matrix is


def assert_valid_matrix(matrix: pd.DataFrame) -> None:
    """What :func:`validate_counts` guarantees."""
    assert matrix.shape[0] >= 2 and matrix.shape[1] >= 2
    values = matrix.to_numpy()
    assert values.dtype == np.float64
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= MAX_COUNT).all()
    assert values.any(axis=0).all()
    genes = list(matrix.index)
    samples = list(matrix.columns)
    assert all(isinstance(g, str) and g and g == g.strip() for g in genes)
    assert all(isinstance(s, str) and s and s == s.strip() for s in samples)
    assert len(set(genes)) == len(genes)
    assert len({s.casefold() for s in samples}) == len(samples)


def write(scratch: Path, data: bytes, name: str = "table.tsv") -> Path:
    path = scratch / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Properties


@settings(FUZZ, max_examples=BUDGET["test_valid_tables_read_back_exactly"])
@given(valid_tables())
@counted
def test_valid_tables_read_back_exactly(scratch, table):
    data, genes, samples, values = table
    frame = read_counts(write(scratch, data))
    assert list(frame.columns) == samples
    assert list(frame.index) == genes
    np.testing.assert_array_equal(frame.to_numpy(), values)
    assert_valid_matrix(validate_counts(frame, "fuzz"))


@settings(FUZZ, max_examples=BUDGET["test_any_counts_file_reads_valid_or_input_error"])
@given(any_tables())
@example(b'gene\t"a\nb"\tc\ng1\t1\t2\ng2\t3\t4\n')  # a quoted line break in the header once shifted the columns
@example(b"\n\ngene\ta\tb\ng1\t1\t2\ng2\t3\t4\n")  # blank lines before the header were read as the header
@example(b"gene\ta\tb\nx\tg1\t1\t2\ny\tg2\t3\t4\n")  # every row one field longer than the header
@counted
def test_any_counts_file_reads_valid_or_input_error(scratch, data):
    path = write(scratch, data)
    try:
        frame = read_counts(path)
        matrix = validate_counts(frame, str(path))
    except InputError as exc:
        assert str(path) in str(exc)
        event("input error")
        return
    event("valid matrix")
    assert_valid_matrix(matrix)
    assert list(matrix.columns) == [str(c).strip() for c in frame.columns]


@st.composite
def sheets(draw):
    samples = draw(unique_names(draw(st.integers(1, 5))))
    n_vars = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))
    columns = draw(st.lists(names, min_size=n_vars, max_size=n_vars))
    sample_header = draw(st.sampled_from(["sample", "Sample", "", "id"]))
    rows = [[sample_header, *columns]]
    for s in draw(st.permutations(samples)):
        level = st.one_of(*[st.sampled_from(["A", "B", "C"])] * 4, names, names, st.just(""))
        rows.append([s, *(draw(level) for _ in columns)])
    if draw(st.integers(0, 4)) == 0:
        rows.append(draw(st.lists(names, min_size=1, max_size=n_vars + 2)))  # an odd row
    sep = draw(st.sampled_from(SEPARATORS))
    text = render(rows, sep, draw(st.sampled_from(LINE_ENDS)), draw(st.booleans()))
    matrix_samples = draw(st.lists(st.sampled_from(samples), min_size=min(2, len(samples)), unique=True))
    if draw(st.integers(0, 4)) == 0:
        matrix_samples.append(draw(names))  # a matrix sample the sheet may not have
    design = draw(design_texts(columns or ["condition"]))
    return encode(text, draw(st.booleans()), False), matrix_samples, design


@st.composite
def design_texts(draw, columns):
    tokens = st.one_of(
        st.sampled_from(["~", "+", ":", "*", " ", "`", "1", "(", ")", ";", '"', "$", "\n", "system('x')"]),
        st.sampled_from(columns),
        st.sampled_from(columns).map(lambda c: f"`{c}`"),
        names,
    )
    if draw(st.booleans()):
        # Mostly well formed: ~ a + b:c * d
        terms = draw(st.lists(st.sampled_from(columns).map(lambda c: f"`{c}`"), min_size=1, max_size=4))
        ops = draw(st.lists(st.sampled_from([" + ", ":", " * "]), min_size=len(terms) - 1, max_size=len(terms) - 1))
        return "~ " + "".join(t + o for t, o in zip(terms, [*ops, ""], strict=True))
    return "".join(draw(st.lists(tokens, max_size=8)))


_SAFE_FORMULA = re.compile(r"~ [A-Za-z][A-Za-z0-9._]*(?:[ +:]+[A-Za-z][A-Za-z0-9._]*)*")


def assert_safe_design(text: str, columns: list[str]) -> None:
    """Either an InputError or a design over the columns whose R formula holds no user text."""
    try:
        design = parse_design(text, columns)
    except InputError as exc:
        assert str(exc).startswith("design '")
        event("design refused")
        return
    event("design parsed")
    assert design.terms and set(design.variables) <= set(columns)
    aliases = r_aliases(list(design.variables))
    formula = design.r_formula(aliases)
    assert _SAFE_FORMULA.fullmatch(formula), formula
    assert len(set(aliases.values())) == len(aliases)
    # The text form parses back to the same design.
    assert parse_design(design.text(), columns) == design


@settings(FUZZ, max_examples=BUDGET["test_any_sample_sheet_matches_or_input_error"])
@given(sheets())
@counted
def test_any_sample_sheet_matches_or_input_error(scratch, case):
    data, matrix_samples, design = case
    path = write(scratch, data, "samples.tsv")
    try:
        sheet = read_samples(path)
        table = match_samples(sheet.table, matrix_samples, sheet.source).table
    except InputError as exc:
        assert str(path) in str(exc)
        event("input error")
        return
    event("matched")
    assert list(table.index) == matrix_samples
    assert list(table.columns) == sheet.columns and len(table.columns) >= 1
    for col in table.columns:
        values = table[col]
        assert isinstance(values.dtype, pd.CategoricalDtype)
        assert list(values.cat.categories) == sorted(values.cat.categories)
        assert all(isinstance(v, str) and v and v == v.strip() for v in values)
    assert_safe_design(design, list(table.columns))


@settings(FUZZ, max_examples=BUDGET["test_any_design_parses_safely_or_input_error"])
@given(
    st.lists(names, min_size=1, max_size=4, unique=True).flatmap(
        lambda cols: st.tuples(st.just(cols), design_texts(cols))
    )
)
@example((["cell type", 'x"); system("id', "if"], '~ `cell type` + `x"); system("id` * `if`'))
@counted
def test_any_design_parses_safely_or_input_error(case):
    columns, text = case
    assert_safe_design(text, columns)


def test_every_property_test_is_held_to_a_budget_of_2000_in_all():
    # Each property test's teardown checks the examples it ran against its budget (_budget_spent):
    # here, that no property test is left out of it.
    assert sum(BUDGET.values()) >= 2000
    assert {name for name in BUDGET} == {name for name, value in globals().items() if hasattr(value, "hypothesis")}


# ---------------------------------------------------------------------------------------------
# Regressions found by the fuzzer, as plain tests


def test_quoted_line_break_in_a_sample_name(scratch):
    frame = read_counts(write(scratch, b'gene\t"a\nb"\tc\ng1\t1\t2\ng2\t3\t4\n'))
    assert list(frame.columns) == ["a\nb", "c"]
    assert frame.to_dict() == {"a\nb": {"g1": 1.0, "g2": 3.0}, "c": {"g1": 2.0, "g2": 4.0}}
    # The same with an empty first header field: pandas' skiprows then cut the header in the wrong place.
    frame = read_counts(write(scratch, b'\t"0\n0"\t0\n0\t1\t1\n00\t0\t2\n'))
    assert list(frame.columns) == ["0\n0", "0"] and list(frame.index) == ["0", "00"]
    assert frame.to_numpy().tolist() == [[1.0, 1.0], [0.0, 2.0]]


def test_blank_lines_before_the_header(scratch):
    frame = read_counts(write(scratch, b"\r\n \n\ngene\ta\tb\ng1\t1\t2\ng2\t3\t4\n"))
    assert list(frame.columns) == ["a", "b"] and list(frame.index) == ["g1", "g2"]
    sheet = read_samples(write(scratch, b"\n\nsample\tcondition\na\tA\nb\tB\n", "samples.tsv"))
    assert list(sheet.table.index) == ["a", "b"]


def test_csv_module_and_pandas_agree_on_a_write_csv_file(scratch):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows([["", "s,1", 's"2'], ["g,1", 1.5, 2], ["g2", 3, 4.25]])
    frame = read_counts(write(scratch, buffer.getvalue().encode()))
    assert list(frame.columns) == ["s,1", 's"2'] and list(frame.index) == ["g,1", "g2"]
    assert frame.to_numpy().tolist() == [[1.5, 2.0], [3.0, 4.25]]
