"""Parse design formulas in Python so that user text never reaches R as code.

A formula is ``~`` followed by terms joined by ``+``; a term is one or more sample-sheet
column names joined by ``:`` (interaction) or ``*`` (main effects and interaction).
Names are bare (letters, digits, ``.`` and ``_``) or quoted in backticks for names with
other characters. The parsed terms are rebuilt in R from R-safe aliases of the names.

The options ``factor`` and ``blocking`` name sample-sheet columns instead of a formula;
:func:`factor_design` builds the formula from them (called by
:func:`deseq2_normalized.planning.settle_request`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from deseq2_normalized.errors import InputError

_BARE = re.compile(r"[A-Za-z0-9._]+")
_R_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9._]*")
_R_RESERVED = frozenset(
    "if else repeat while function for next break TRUE FALSE NULL Inf NaN NA NA_integer_ "
    "NA_real_ NA_character_ NA_complex_ in".split()
)


@dataclass(frozen=True)
class Design:
    """A parsed design formula.

    Attributes
    ----------
    terms
        Expanded terms in formula order; each term is a tuple of column names.
    """

    terms: tuple[tuple[str, ...], ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """Column names in order of first appearance."""
        seen: dict[str, None] = {}
        for term in self.terms:
            for name in term:
                seen.setdefault(name, None)
        return tuple(seen)

    @property
    def main_effects(self) -> tuple[str, ...]:
        """Variables that appear as a term on their own."""
        return tuple(t[0] for t in self.terms if len(t) == 1)

    def text(self) -> str:
        """The formula as a person would write it (names quoted in backticks when needed)."""
        return "~ " + " + ".join(":".join(_quote(n) for n in term) for term in self.terms)

    def r_formula(self, aliases: dict[str, str]) -> str:
        """The formula over R-safe aliases; it contains no user text."""
        return "~ " + " + ".join(":".join(aliases[n] for n in term) for term in self.terms)


def _quote(name: str) -> str:
    return name if _BARE.fullmatch(name) else f"`{name}`"


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """Split a formula into (kind, value, position) tokens."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "~+:*":
            out.append(("op", ch, i))
            i += 1
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise InputError(f"design '{text}': unclosed backtick at position {i + 1}")
            out.append(("name", text[i + 1 : end], i))
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                raise InputError(
                    f"design '{text}': unexpected character '{ch}' at position {i + 1}; "
                    "a design may only name sample-sheet columns joined by +, : or *"
                )
            out.append(("name", m.group(), i))
            i = m.end()
    return out


def parse_design(text: str, columns: list[str] | tuple[str, ...]) -> Design:
    """Parse a design formula against the sample-sheet columns.

    Parameters
    ----------
    text
        For example ``"~ batch + condition"`` or ``"~ genotype * treatment"``.
    columns
        The sample sheet's design columns.

    Returns
    -------
    Design
        The expanded terms.

    Raises
    ------
    InputError
        For anything but column names joined by ``+``, ``:`` and ``*`` after a ``~``.
    """
    toks = _tokens(text)
    if not toks or toks[0] != ("op", "~", toks[0][2]):
        raise InputError(f"design '{text}': must start with '~', for example '~ condition'")
    toks = toks[1:]
    if not toks:
        raise InputError(f"design '{text}': names no variable")
    terms: list[tuple[str, ...]] = []
    expect_name = True
    current: list[list[str]] = []  # groups joined by ':' inside one '*'-product
    star_groups: list[tuple[str, ...]] = []
    for kind, value, pos in toks:
        if expect_name:
            if kind != "name":
                raise InputError(f"design '{text}': expected a column name at position {pos + 1}, found '{value}'")
            if value not in columns:
                known = ", ".join(columns)
                raise InputError(f"design '{text}': '{value}' is not a sample-sheet column (columns: {known})")
            if not current:
                current.append([])
            current[-1].append(value)
            expect_name = False
            continue
        if kind != "op" or value == "~":
            raise InputError(f"design '{text}': expected +, : or * at position {pos + 1}, found '{value}'")
        if value == "*":
            current.append([])
        elif value == "+":
            star_groups.extend(_expand(current))
            current = []
        expect_name = True
    if expect_name:
        raise InputError(f"design '{text}': ends with an operator")
    star_groups.extend(_expand(current))
    for term in star_groups:
        if len(set(term)) != len(term):
            raise InputError(f"design '{text}': term '{':'.join(term)}' repeats a variable")
        if not any(set(term) == set(t) for t in terms):
            terms.append(term)
    return Design(terms=tuple(terms))


def _expand(groups: list[list[str]]) -> list[tuple[str, ...]]:
    """Expand ``a:b * c`` into ``a:b + c + a:b:c`` (R's ``*`` on ``:``-terms)."""
    parts = [tuple(g) for g in groups]
    out: list[tuple[str, ...]] = []
    for size in range(1, len(parts) + 1):
        for combo in combinations(parts, size):
            out.append(tuple(name for part in combo for name in part))
    return out


def default_design(columns: list[str] | tuple[str, ...]) -> Design:
    """``~ condition`` when the sheet has that column, else ``~`` its last column."""
    name = "condition" if "condition" in columns else columns[-1]
    return Design(terms=((name,),))


def r_aliases(columns: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Map each column name to an R-safe name: itself when already safe, else ``vN``.

    Parameters
    ----------
    columns
        The sample-sheet design columns.

    Returns
    -------
    dict
        Column name to R name; the R names are unique.
    """
    aliases: dict[str, str] = {}
    used: set[str] = set()
    for name in columns:
        if _R_SAFE.fullmatch(name) and name not in _R_RESERVED and name not in used:
            aliases[name] = name
            used.add(name)
    for i, name in enumerate(columns, start=1):
        if name in aliases:
            continue
        alias = f"v{i}"
        while alias in used or alias in columns:
            alias = f"v{i}_{len(used)}"
        aliases[name] = alias
        used.add(alias)
    return aliases


# --- a design from sample-sheet columns (--factor, --blocking) ---------------------------------

_NUMBER = re.compile(r"[0-9]+")


#: Level names taken as the reference by ``pick_reference`` (``--pick-reference``), in order of preference (any case).
CONTROL_NAMES = (
    "control", "untreated", "ctrl", "wt", "wildtype", "wild-type", "wild_type", "mock", "normal", "healthy",
    "vehicle", "placebo", "baseline", "unstimulated", "naive", "sham", "none", "ctl", "con",
)  # fmt: skip


@dataclass(frozen=True)
class FactorDesign:
    """A design built from sample-sheet columns: ``~ blocking... + factor``.

    Attributes
    ----------
    factor
        The column whose levels are compared; the design's last variable.
    blocking
        The columns adjusted for, in the order given; they come before the factor.
    """

    factor: str
    blocking: tuple[str, ...] = ()

    @property
    def design(self) -> Design:
        """The full design, ``~ blocking... + factor``."""
        return Design(terms=tuple((name,) for name in (*self.blocking, self.factor)))

    def reduced_text(self) -> str:
        """The likelihood ratio test's default reduced design: the full one without the factor."""
        return Design(terms=tuple((name,) for name in self.blocking)).text() if self.blocking else "~ 1"


def factor_design(
    header: Sequence[str],
    design_columns: Sequence[str],
    factor: str,
    blocking: Sequence[str] = (),
    where: str = "sample sheet",
) -> FactorDesign:
    """Build ``~ blocking... + factor`` from sample-sheet columns given by name or number.

    A column is given by its name, or by its 1-based number among every column of the sheet
    file, the sample-name column included (what Galaxy's column picker passes, and what
    ``cut -f N`` on the sheet's rows gives). A value of digits only is a number.

    Parameters
    ----------
    header
        The sheet's column names in file order, the sample-name column included.
    design_columns
        The sheet's design columns as read (every column but the sample names).
    factor
        The factor of interest (``--factor``).
    blocking
        Columns to adjust for (``--blocking``); each value is one column, or a
        comma-separated list of columns unless it is a column's name as a whole.
    where
        What messages call the sample sheet.

    Returns
    -------
    FactorDesign
        The factor and the blocking columns by name (a column given twice is taken once).

    Raises
    ------
    InputError
        For a number out of range, an unknown name, the sample-name column, a blocking
        column equal to the factor, or a name a formula cannot quote.
    """
    samples_at = next((i for i, name in enumerate(header) if name not in design_columns), 0)
    column = _sheet_column(header, samples_at, factor, "--factor", where)
    if column == samples_at:
        raise InputError(
            f"--factor: {_column(header, column, where)} holds the sample names, one level per sample; "
            "pick the column that groups the samples, e.g. 'condition'"
        )
    chosen: dict[str, None] = {}
    for value in blocking:
        parts = [value] if value.strip() in header else value.split(",")
        for part in (p for p in parts if p.strip()):
            at = _sheet_column(header, samples_at, part, "--blocking", where)
            if at == samples_at:
                raise InputError(
                    f"--blocking: {_column(header, at, where)} holds the sample names, one level per sample; "
                    "pick columns that group the samples, e.g. 'batch'"
                )
            if at == column:
                raise InputError(
                    f"--blocking: {_column(header, at, where)} is already --factor; "
                    "pick other columns to adjust for, e.g. 'batch'"
                )
            chosen.setdefault(header[at], None)
    return FactorDesign(factor=header[column], blocking=tuple(chosen))


def _column(header: Sequence[str], at: int, where: str) -> str:
    return f"column {at + 1} ('{header[at] or 'sample'}') of the sample sheet '{where}'"


def _sheet_column(header: Sequence[str], samples_at: int, value: str, option: str, where: str) -> int:
    """The 0-based position of the column ``value`` names (a name, or a 1-based number)."""
    text = value.strip()
    listing = ", ".join(f"{i} '{name or 'sample'}'" for i, name in enumerate(header, start=1))
    if _NUMBER.fullmatch(text):
        number = int(text)
        if not 1 <= number <= len(header):
            raise InputError(
                f"{option}: column {number} is not in the sample sheet '{where}', whose columns are {listing}"
            )
        at = number - 1
    elif text in header:
        at = header.index(text)
    else:
        raise InputError(
            f"{option}: '{text}' is not a column of the sample sheet '{where}', whose columns are {listing}"
        )
    if "`" in header[at] and at != samples_at:
        raise InputError(
            f"{option}: {_column(header, at, where)} has a backtick in its name, which a design formula "
            "cannot quote; rename the column"
        )
    return at
