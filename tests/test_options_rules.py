"""The options of issue 21 without R: numeric-covariate rule, refusals, the sparse size-factor check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deseq2_normalized import check_table
from deseq2_normalized.cli import build_parser
from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions
from deseq2_normalized.planning import plan_run
from deseq2_normalized.sizefactors import check_size_factors, poscounts
from deseq2_normalized.validate import match_samples
from tables import with_a_zero_per_gene

SAMPLES = ["a1", "a2", "a3", "b1", "b2", "b3"]


def sheet(**columns: list[str]) -> pd.DataFrame:
    raw = pd.DataFrame(columns, index=pd.Index(SAMPLES, name="sample"))
    return match_samples(raw, SAMPLES).table


BASE = {
    "condition": ["A", "A", "A", "B", "B", "B"],
    "W_1": ["0.12", "-0.3", "1e-2", "0.5", "-0.07", "0.2"],
    "batch": ["1", "2", "3", "1", "2", "3"],
    "age": ["31", "45", "52", "38", "60", "41"],
}


def plan(design: str, **options):
    opts = AnalysisOptions(design=design, **options)
    opts.validate()
    return plan_run(opts, sheet(**BASE))


def test_decimal_column_is_numeric_whole_numbers_stay_factors():
    p = plan("~ W_1 + batch + condition")
    assert p.coldata["W_1"].dtype == np.float64
    assert p.coldata["W_1"].tolist() == [0.12, -0.3, 0.01, 0.5, -0.07, 0.2]
    assert p.coldata["batch"].dtype == "category"
    assert list(p.coldata["batch"].cat.categories) == ["1", "2", "3"]
    assert p.coldata["condition"].dtype == "category"


def test_numeric_and_factor_columns_override_the_rule():
    p = plan("~ age + condition", numeric_columns=("age",))
    assert p.coldata["age"].dtype == np.float64
    # W_1 made a factor has one level per sample: 7 coefficients for 6 samples, refused before R.
    with pytest.raises(InputError, match="6 samples for the 7 coefficients of the design ~ W_1 \\+ condition"):
        plan("~ W_1 + condition", factor_columns=("W_1",))


def test_factor_of_interest_is_always_a_factor():
    samples = sheet(dose=["0.5", "0.5", "0.5", "1.5", "1.5", "1.5"], W_1=BASE["W_1"])
    p = plan_run(AnalysisOptions(design="~ W_1 + dose"), samples)
    assert p.coldata["dose"].dtype == "category"
    assert [c.stem for c in p.contrasts] == ["results_dose_1.5_vs_0.5"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"numeric_columns": ("condition",)}, "--numeric-columns: 'condition' is the factor of interest"),
        ({"numeric_columns": ("nope",)}, "--numeric-columns: no sample-sheet column 'nope'"),
        ({"factor_columns": ("nope",)}, "--factor-columns: no sample-sheet column 'nope'"),
    ],
)
def test_column_options_refuse_bad_names(options, message):
    with pytest.raises(InputError, match=message):
        plan("~ W_1 + condition", **options)


def test_numeric_columns_refuse_text():
    samples = sheet(condition=BASE["condition"], site=["x", "y", "x", "y", "x", "y"])
    with pytest.raises(InputError, match="--numeric-columns: column 'site' holds 'x', not a number"):
        plan_run(AnalysisOptions(design="~ site + condition", numeric_columns=("site",)), samples)


def test_constant_numeric_covariate_refused():
    samples = sheet(condition=BASE["condition"], rin=["7.5"] * 6)
    with pytest.raises(InputError, match="numeric covariate 'rin' has a single value"):
        plan_run(AnalysisOptions(design="~ rin + condition"), samples)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"factor_columns": ("W_1",), "numeric_columns": ("W_1",)}, "both name W_1"),
        ({"beta_prior": True, "test": "lrt", "reduced": "~ 1"}, "--beta-prior applies to Wald tests"),
        ({"beta_prior": True, "shrink": "normal"}, "--beta-prior and --shrink cannot be combined"),
        ({"sf_type": "median"}, "--sf-type must be one of ratio, poscounts, iterate"),
        ({"transform": "log2"}, "--transform must be one of vst, rlog, both, none"),
    ],
)
def test_bad_values_and_combinations_refused(options, message):
    with pytest.raises(InputError, match=message):
        AnalysisOptions(**options).validate()


def test_beta_prior_refuses_interactions():
    with pytest.raises(InputError, match="--beta-prior: DESeq2 allows it for standard designs only"):
        plan("~ batch + condition + batch:condition", beta_prior=True)


def test_command_line_options_reach_the_fields():
    args = build_parser().parse_args(
        ["run", "--counts", "c", "--samples", "s", "--out-dir", "o", "--numeric-columns", "age, RIN",
         "--factor-columns", "W_1", "--beta-prior", "--no-outlier-replacement", "--sf-type", "iterate",
         "--transform", "both"]
    )  # fmt: skip
    opts = AnalysisOptions.from_namespace(args)
    assert opts.numeric_columns == ("age", "RIN") and opts.factor_columns == ("W_1",)
    assert opts.beta_prior is True and opts.outlier_replacement is False
    assert opts.sf_type == "iterate" and opts.transform == "both"
    default = AnalysisOptions.from_namespace(
        build_parser().parse_args(["run", "--counts", "c", "--samples", "s", "--out-dir", "o"])
    )
    assert (default.beta_prior, default.outlier_replacement, default.sf_type) == (False, True, "ratio")


def test_poscounts_by_hand():
    # Gene geometric means over positive counts divided by all 3 samples; medians of log ratios over
    # positive cells (two values: their geometric mean).
    counts = np.array([[4.0, 0.0, 16.0], [2.0, 8.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    geo = np.exp(np.array([np.log(64) / 3, np.log(16) / 3, 0.0]))
    sf = np.array(
        [
            1.0,  # ratios 1, 0.79, 1
            np.sqrt(8 / geo[1] * 1 / geo[2]),
            np.sqrt(16 / geo[0] * 1 / geo[2]),
        ]
    )
    np.testing.assert_allclose(poscounts(counts), sf / np.exp(np.log(sf).mean()), rtol=1e-14)


def test_sparse_table_is_checked_with_poscounts():
    rng = np.random.default_rng(5)
    values = with_a_zero_per_gene(rng.poisson(50, size=(300, 6)).astype(float))
    table = pd.DataFrame(values, index=[f"g{i}" for i in range(300)], columns=SAMPLES)
    result = check_table(table)
    assert result.size_factors.estimator == "poscounts"
    assert result.size_factors.genes_used == 300
    assert result.size_factors.passed
    assert result.to_dict()["size_factor_check"]["estimator"] == "poscounts"
    # A table with complete genes keeps median-of-ratios.
    assert check_size_factors(table.clip(lower=1)).estimator == "ratio"


def test_table_rounding_to_zero_still_refused():
    table = pd.DataFrame(np.full((5, 6), 0.2), index=[f"g{i}" for i in range(5)], columns=SAMPLES)
    with pytest.raises(InputError, match="every value rounds to zero"):
        check_table(table)
