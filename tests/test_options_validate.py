"""Every check of :meth:`AnalysisOptions.validate`, each with its exact message (no R)."""

from __future__ import annotations

from typing import Any

import pytest

from deseq2_normalized.errors import InputError
from deseq2_normalized.options import AnalysisOptions

# One case per check, in the order validate runs them: the options and the whole message.
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "alpha_zero": ({"alpha": 0.0}, "--alpha must lie between 0 and 1, got 0.0"),
    "alpha_one": ({"alpha": 1.0}, "--alpha must lie between 0 and 1, got 1.0"),
    "alpha_above_one": ({"alpha": 2}, "--alpha must lie between 0 and 1, got 2"),
    "alpha_negative": ({"alpha": -0.05}, "--alpha must lie between 0 and 1, got -0.05"),
    "alpha_nan": ({"alpha": float("nan")}, "--alpha must lie between 0 and 1, got nan"),
    "lfc_threshold_negative": ({"lfc_threshold": -0.5}, "--lfc-threshold must not be negative, got -0.5"),
    "rounding_sensitivity_negative": (
        {"rounding_sensitivity": -1},
        "--rounding-sensitivity must not be negative, got -1",
    ),
    "threads_zero": ({"threads": 0}, "--threads must be at least 1, got 0"),
    "threads_negative": ({"threads": -4}, "--threads must be at least 1, got -4"),
    "lrt_without_reduced": (
        {"test": "lrt"},
        "--test lrt needs --reduced, for example --reduced '~ 1' or '~ batch'",
    ),
    "lrt_with_empty_reduced": (
        {"test": "lrt", "reduced": ""},
        "--test lrt needs --reduced, for example --reduced '~ 1' or '~ batch'",
    ),
    "reduced_with_wald": ({"test": "wald", "reduced": "~ 1"}, "--reduced is only used with --test lrt"),
    "lrt_with_shrink": (
        {"test": "lrt", "reduced": "~ 1", "shrink": "normal"},
        "--shrink applies to Wald-test contrasts; it cannot be combined with --test lrt",
    ),
    "column_both_factor_and_numeric": (
        {"factor_columns": ("W_1", "batch", "age"), "numeric_columns": ("age", "W_1")},
        "--factor-columns and --numeric-columns both name W_1, age",
    ),
    "beta_prior_with_lrt": (
        {"beta_prior": True, "test": "lrt", "reduced": "~ 1"},
        "--beta-prior applies to Wald tests; DESeq2 refuses it with --test lrt",
    ),
    "beta_prior_with_shrink": (
        {"beta_prior": True, "shrink": "apeglm"},
        "--beta-prior and --shrink cannot be combined: lfcShrink needs a fit without betaPrior",
    ),
    "lrt_with_contrast": (
        {"test": "lrt", "reduced": "~ 1", "contrasts": (("condition", "B", "A"),)},
        "--contrast applies to Wald tests; an LRT tests the terms dropped in --reduced",
    ),
}

# Every option with a fixed set of choices, a value outside it, and the whole message.
BAD_CHOICES: dict[str, tuple[Any, str]] = {
    "test": ("wilcoxon", "--test must be one of wald, lrt; got 'wilcoxon'"),
    "fit_type": ("magic", "--fit-type must be one of parametric, local, mean, glmGamPoi; got 'magic'"),
    "shrink": ("lasso", "--shrink must be one of none, normal, ashr, apeglm; got 'lasso'"),
    "transform": ("log2", "--transform must be one of vst, rlog, both, none; got 'log2'"),
    "method": ("guess", "--method must be one of round, recover, estimated, auto; got 'guess'"),
    "sf_type": ("median", "--sf-type must be one of ratio, poscounts, iterate; got 'median'"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_each_check_refuses_with_its_message(name):
    options, message = REFUSED[name]
    with pytest.raises(InputError) as caught:
        AnalysisOptions(**options).validate()
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("field", list(BAD_CHOICES))
def test_each_choice_option_refuses_a_value_outside_its_choices(field):
    value, message = BAD_CHOICES[field]
    with pytest.raises(InputError) as caught:
        AnalysisOptions(**{field: value}).validate()
    assert str(caught.value) == message


def test_choices_are_case_sensitive():
    # DESeq2's own names: "Wald" is the R spelling, the option's is "wald".
    with pytest.raises(InputError) as caught:
        AnalysisOptions(test="Wald").validate()
    assert str(caught.value) == "--test must be one of wald, lrt; got 'Wald'"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"alpha": 1e-12},
        {"alpha": 0.999999},
        {"lfc_threshold": 0.0},
        {"lfc_threshold": 2.5},
        {"rounding_sensitivity": 0},
        {"rounding_sensitivity": 20, "threads": 2},
        {"threads": 1},
        {"test": "lrt", "reduced": "~ 1"},
        {"test": "lrt", "reduced": "~ batch", "shrink": "none", "fit_type": "glmGamPoi"},
        {"shrink": "apeglm", "contrasts": (("condition", "B", "A"),)},
        {"beta_prior": True},
        {"factor_columns": ("batch",), "numeric_columns": ("age",)},
        {"method": "estimated", "sf_type": "poscounts", "transform": "both"},
    ],
    ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()) or "defaults",
)
def test_valid_options_pass(options):
    # Boundaries and combinations that are allowed: validate returns, raising nothing.
    assert AnalysisOptions(**options).validate() is None


def test_the_first_failing_check_is_reported():
    # Several problems at once: the message is the first check's, in validate's order.
    opts = AnalysisOptions(alpha=5, threads=0, test="lrt")
    with pytest.raises(InputError) as caught:
        opts.validate()
    assert str(caught.value) == "--alpha must lie between 0 and 1, got 5"
