"""File stems of the results tables: file-safe, and short enough for any file system."""

from __future__ import annotations

from deseq2_normalized.contrasts import MAX_STEM, Contrast


def test_a_contrast_names_its_file_after_factor_and_levels() -> None:
    assert Contrast("condition", "treated", "untreated").stem == "results_condition_treated_vs_untreated"
    assert Contrast("cell type", "T cell/CD4", "B").stem == "results_cell-type_T-cell-CD4_vs_B"


def test_long_level_names_give_stems_every_file_system_accepts() -> None:
    long_a = Contrast("condition", "x" * 300 + "a", "untreated")
    long_b = Contrast("condition", "x" * 300 + "b", "untreated")
    for contrast in (long_a, long_b):
        assert len(contrast.stem) == MAX_STEM
        assert contrast.stem.startswith("results_condition_xxx")
        # The longest plot file written for a contrast still fits in 255 bytes.
        assert len(f"{contrast.stem}_pvalue_histogram.png".encode()) <= 255
    # Cut at the same place, the two still get two files.
    assert long_a.stem != long_b.stem


def test_a_stem_at_the_limit_is_kept_whole() -> None:
    level = "y" * (MAX_STEM - len("results_f_vs_z") - 1)
    contrast = Contrast("f", level, "z")
    assert len(contrast.stem) == MAX_STEM
    assert contrast.stem == f"results_f_{level}_vs_z"
