"""Design formulas are parsed in Python; only validated names ever reach R."""

from __future__ import annotations

import pytest

from deseq2_normalized.design import default_design, parse_design, r_aliases
from deseq2_normalized.errors import InputError

COLUMNS = ["condition", "batch", "type", "cell type"]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("~ condition", [("condition",)]),
        ("~batch+condition", [("batch",), ("condition",)]),
        ("~ batch + condition + batch:condition", [("batch",), ("condition",), ("batch", "condition")]),
        ("~ batch * condition", [("batch",), ("condition",), ("batch", "condition")]),
        ("~ type + batch * condition", [("type",), ("batch",), ("condition",), ("batch", "condition")]),
        ("~ `cell type` + condition", [("cell type",), ("condition",)]),
        ("~ condition + condition", [("condition",)]),
    ],
)
def test_parses(text, terms):
    assert list(parse_design(text, COLUMNS).terms) == terms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("condition", "must start with '~'"),
        ("~", "names no variable"),
        ("~ condition +", "ends with an operator"),
        ("~ genotype", "'genotype' is not a sample-sheet column"),
        ('~ condition + system("touch /tmp/x")', "unexpected character '('"),
        ("~ condition; q()", "unexpected character ';'"),
        ("~ log(condition)", "unexpected character '('"),
        ("~ `condition", "unclosed backtick"),
        ("~ condition ~ batch", "expected +, : or *"),
        ("~ condition:condition", "repeats a variable"),
        ("~ 0 + condition", "'0' is not a sample-sheet column"),
        ("~ $(rm -rf ~)", "unexpected character '$'"),
    ],
)
def test_refuses(text, message):
    with pytest.raises(InputError) as info:
        parse_design(text, COLUMNS)
    assert message in str(info.value)


def test_default_design():
    assert default_design(["batch", "condition", "type"]).text() == "~ condition"
    assert default_design(["batch", "genotype"]).text() == "~ genotype"


def test_r_formula_uses_only_safe_aliases():
    columns = ["condition", "cell type", 'x"); system("id', "if", "v2"]
    aliases = r_aliases(columns)
    assert aliases["condition"] == "condition"
    assert len(set(aliases.values())) == len(columns)
    design = parse_design('~ `cell type` + `x"); system("id` + `if` + condition', columns)
    formula = design.r_formula(aliases)
    assert "system" not in formula and '"' not in formula and "cell type" not in formula
    assert formula.count("+") == 3
    for alias in aliases.values():
        assert alias.replace(".", "").replace("_", "").isalnum()
