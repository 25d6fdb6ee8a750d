"""The HTML report of a run, in two forms.

``single`` (the command line's ``report.html``): one self-contained file, no external
resource; plots are embedded as base64 ``data:`` URIs, the style sheet and the small
table-sorting script are inline.

``files`` (Galaxy's report): ``report.html`` with the plots, the style sheet and the script
as files beside it, referenced by relative names. Galaxy serves them as the HTML dataset's
extra files. A Galaxy server that cleans HTML outputs (``galaxy.util.sanitize_html``) drops
``data:`` URIs and ``<style>``/``<script>`` tags but keeps their text, which would show the
style sheet as text and lose every plot; the ``files`` form has no inline style or script
and no ``data:`` URI, so the cleaned page keeps every section, table and plot, unstyled.

Every piece of user text (gene IDs, sample names, levels, file names) goes through
:func:`html.escape`, so it can never become markup or script.

The style sheet, the script and the page around the sections are package data:
``report_assets/report.css``, ``report.js`` and ``page.html``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import shutil
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from deseq2_normalized import interface
from deseq2_normalized.diagnostics import numeric_covariates
from deseq2_normalized.figures import Plot, contrast_title
from deseq2_normalized.options import OptionText, described
from deseq2_normalized.results import InputNames
from deseq2_normalized.verdict import run_verdict

if TYPE_CHECKING:
    from deseq2_normalized.contrasts import ResultSummary
    from deseq2_normalized.results import AnalysisResult

#: Genes per contrast in the report's sortable table.
TOP_GENES = 50
#: Values of ``form``: one self-contained file, or the page with its files beside it.
FORMS = ("single", "files")
#: File names of the ``files`` form's style sheet and script.
STYLE_FILE = "report.css"
SCRIPT_FILE = "report.js"


def esc(value: object) -> str:
    """``value`` as text escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def build_report(
    result: AnalysisResult,
    plots: Sequence[Plot],
    *,
    inputs: InputNames | None = None,
    now: dt.datetime | None = None,
    annotation: pd.DataFrame | None = None,
    form: str = "single",
) -> str:
    """The report as one HTML document.

    Parameters
    ----------
    result
        The run.
    plots
        Drawn plots (PNG files are read and embedded).
    inputs
        What the inputs are called (default: the counts as the result names them).
    now
        Run date shown in the report (default: now).
    annotation
        Gene annotation columns (index gene IDs), shown after ``gene_id`` in the top-gene tables.
    form
        ``"single"``: plots, style and script inside the page; ``"files"``: the page refers to
        each plot by its file name and to :data:`STYLE_FILE` and :data:`SCRIPT_FILE`.

    Returns
    -------
    str
        The HTML text.
    """
    if form not in FORMS:
        raise ValueError(f"report form must be one of {', '.join(FORMS)}; got {form!r}")
    when = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    figures = _embedded_figures if form == "single" else _linked_figures
    sections = [
        _summary_section(result, inputs or InputNames(result.source)),
        _method_section(result),
        _design_section(result),
        _plots_section("Quality control", [p for p in plots if p.contrast is None], figures),
        *(_contrast_section(result, summary, plots, figures, annotation) for summary in result.summaries),
        _versions_section(result),
    ]
    links = [("summary", "Inputs and check"), ("method", "Method"), ("design", "Design"), ("qc", "Quality control")]
    links += [(summary.stem, contrast_title(summary)) for summary in result.summaries]
    links.append(("versions", "Versions"))
    # The files form has no <title>: a cleaning server keeps a stripped tag's text, and the
    # heading says the same.
    head = (
        f"<title>{_TITLE}</title>\n<style>{_STYLE}</style>"
        if form == "single"
        else f'<link rel="stylesheet" href="{STYLE_FILE}">'
    )
    script = f"<script>{_SCRIPT}</script>" if form == "single" else f'<script src="{SCRIPT_FILE}"></script>'
    return _PAGE.format(
        head=head,
        title=_TITLE,
        # Separated by text too, so that the links stay apart in an unstyled (cleaned) page.
        nav=" | ".join(f'<a href="#{esc(anchor)}">{esc(text)}</a>' for anchor, text in links),
        when=esc(when),
        script=script,
        body="\n".join(sections),
    )


def write_report(
    result: AnalysisResult,
    plots: Sequence[Plot],
    path: Path,
    *,
    inputs: InputNames | None = None,
    annotation: pd.DataFrame | None = None,
) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8) and return the path."""
    path.write_text(build_report(result, plots, inputs=inputs, annotation=annotation), encoding="utf-8")
    return path


def write_report_files(
    result: AnalysisResult,
    plots: Sequence[Plot],
    target: Callable[[str], Path],
    *,
    inputs: InputNames | None = None,
    folder: str = "report",
    annotation: pd.DataFrame | None = None,
) -> Path:
    """Write the ``files`` form: ``<folder>/report.html``, its plots, style sheet and script.

    Every file lies directly in ``folder`` (no subfolder), as Galaxy keeps an HTML dataset's
    extra files.

    Parameters
    ----------
    result
        The run.
    plots
        Drawn plots (their PNG files are copied).
    target
        Gives the path to write an output name to, e.g. ``StagedOutputs.path``.
    inputs
        What the inputs are called, shown in the report.
    folder
        The report's folder, relative to the output folder.
    annotation
        Gene annotation columns (index gene IDs), shown after ``gene_id`` in the top-gene tables.

    Returns
    -------
    pathlib.Path
        The path of the page.
    """
    for plot in plots:
        shutil.copyfile(plot.path, target(f"{folder}/{Path(plot.name).name}"))
    target(f"{folder}/{STYLE_FILE}").write_text(_STYLE, encoding="utf-8")
    target(f"{folder}/{SCRIPT_FILE}").write_text(_SCRIPT, encoding="utf-8")
    page = target(f"{folder}/report.html")
    page.write_text(build_report(result, plots, inputs=inputs, form="files", annotation=annotation), encoding="utf-8")
    return page


# --- sections ---------------------------------------------------------------------------


def _summary_section(result: AnalysisResult, inputs: InputNames) -> str:
    check = result.check
    genes, samples = check.counts.shape
    v = run_verdict(result)
    cls = check.classification
    rows = [(role, Path(name).name) for role, name in inputs.roles()]
    rows.append(("shape", f"{genes:,} genes x {samples} samples"))
    fitted = result.normalized.shape[0]
    if fitted < genes:
        rows.append(("genes fitted", f"{fitted:,}: the others' counts add up to less than the pre-filter's minimum"))
    rows.append(("non-integer cells", f"{100 * check.non_integer_fraction:.1f}%"))
    if check.size_factors.estimator == "poscounts":
        rows.append(
            (
                "size-factor check",
                "every gene is zero in some sample: DESeq2's poscounts estimator, not median-of-ratios",
            )
        )
    rows.extend(("reading", note) for note in result.notes)
    kind = ""
    if cls is not None:
        evidence = "".join(f"<li>{esc(interface.translate(e))}</li>" for e in cls.evidence)
        kind = (
            f"<h3>What kind of table this is</h3><p><strong>{esc(cls.kind.replace('_', ' '))}</strong> "
            f"({esc(interface.translate(cls.detail))})</p><ul>{evidence}</ul>"
            f"<p>Recommendation: {esc(interface.translate(cls.recommendation))}</p>"
        )
    reasons = "".join(f"<li>{esc(interface.translate(r))}</li>" for r in v.reasons)
    return (
        '<section id="summary"><h2>Inputs and size-factor check</h2>'
        f"{_key_values(rows)}"
        f'<p class="verdict"><span class="badge {v.level}">{esc(v.headline)}</span></p><ul>{reasons}</ul>'
        f"{kind}</section>"
    )


def _method_section(result: AnalysisResult) -> str:
    method = result.method
    rows = [
        ("method", method.name),
        ("requested", interface.option("--method", method.requested)),
        ("what it does", method.description),
        ("why", method.why),
        ("size factors", method.size_factors.why),
    ]
    return f'<section id="method"><h2>Method</h2>{_key_values(rows)}</section>'


def _design_section(result: AnalysisResult) -> str:
    opts = result.options
    rows = [("design", result.design.text())]
    rows += [(str(shown.report), _shown(getattr(opts, f.name), shown)) for f, shown in described(where="report")]
    numeric = numeric_covariates(result)
    if numeric:
        rows.append(("numeric covariates", ", ".join(numeric)))
    head = ["contrast", "results file", f"up (padj < {opts.alpha:g})", "down", "tested"]
    body = [[contrast_title(s), s.file, s.up, s.down, s.tested] for s in result.summaries]
    return (
        f'<section id="design"><h2>Design and contrasts</h2>{_key_values(rows)}'
        f'<table class="calls">{_header(head, sortable=False)}{_rows(body)}</table></section>'
    )


def _shown(value: Any, shown: OptionText) -> str:
    """An option's value as the design table shows it: the field's own word for it, else numbers with ``:g``."""
    if shown.shown is not None and value in shown.shown:
        return shown.shown[value]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f"{value:g}" if number else str(value)


_Figures = Callable[[Sequence[Plot]], str]


def _contrast_section(
    result: AnalysisResult,
    summary: ResultSummary,
    plots: Sequence[Plot],
    figures: _Figures,
    annotation: pd.DataFrame | None = None,
) -> str:
    stem = summary.stem
    alpha = result.options.alpha
    top = result.results[stem].dropna(subset=["padj"]).head(TOP_GENES)
    columns = [
        c
        for c in ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "rounding_agreement")
        if c in top.columns
    ]
    notes = _annotation_of(top.index, annotation)
    body = [[gene, *notes.loc[gene], *(_number(top.at[gene, c]) for c in columns)] for gene in top.index]
    head = ["gene_id", *notes.columns, *columns]
    table = (
        f'<table class="sortable genes">{_header(head, sortable=True)}{_rows(body)}</table>'
        if body
        else "<p>No gene has an adjusted p-value.</p>"
    )
    return (
        f'<section class="contrast" id="{esc(stem)}"><h2>Contrast: {esc(contrast_title(summary))}</h2>'
        f'<p><span class="up">{summary.up} up</span> and <span class="down">{summary.down} down</span> '
        f"at padj &lt; {alpha:g}, of {summary.tested} genes tested ({esc(summary.file)}).</p>"
        f"<h3>Top {len(body)} genes by adjusted p-value</h3>"
        f'<p class="hint">Click a column header to sort.</p><div class="scroll">{table}</div>'
        f"{figures([p for p in plots if p.contrast == stem])}</section>"
    )


def _annotation_of(genes: pd.Index, annotation: pd.DataFrame | None) -> pd.DataFrame:
    """The annotation columns of ``genes`` as text (empty where a gene has none); no columns without annotation."""
    if annotation is None:
        return pd.DataFrame(index=genes)
    return annotation.reindex(genes).fillna("").astype(str)


def _plots_section(title: str, plots: Sequence[Plot], figures: _Figures) -> str:
    return f'<section id="qc"><h2>{esc(title)}</h2>{figures(plots)}</section>'


def _versions_section(result: AnalysisResult) -> str:
    rows = list(result.versions.items())
    cite = (
        "Love MI, Huber W, Anders S (2014). Moderated estimation of fold change and dispersion for RNA-seq "
        "data with DESeq2. Genome Biology 15:550. doi:10.1186/s13059-014-0550-8"
    )
    return (
        f'<section id="versions"><h2>Software versions</h2>{_key_values(rows)}'
        f'<p class="hint">Please cite DESeq2: {esc(cite)}</p></section>'
    )


# --- pieces -----------------------------------------------------------------------------


def _key_values(rows: Iterable[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(interface.translate(str(v)))}</td></tr>" for k, v in rows)
    return f'<table class="kv">{cells}</table>'


def _header(names: Sequence[str], *, sortable: bool) -> str:
    hint = ' title="click to sort"' if sortable else ""
    return "<thead><tr>" + "".join(f"<th{hint}>{esc(n)}</th>" for n in names) + "</tr></thead>"


def _rows(rows: Iterable[Sequence[object]]) -> str:
    out = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, tuple):  # (sort key, shown text) of a number
                key, text = value
                cells.append(f'<td class="num" data-sort="{esc(key)}">{esc(text)}</td>')
            else:
                cells.append(f"<td>{esc(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "<tbody>" + "".join(out) + "</tbody>"


def _number(value: Any) -> tuple[str, str]:
    """Sort key (full precision, empty for NA) and the shown text of a number."""
    x = float(value)
    if math.isnan(x):
        return "", "NA"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e7):
        text = f"{x:.3g}"
    elif abs(x) >= 1000:
        text = f"{x:.0f}"  # a baseMean of 43910, not 4.391e+04
    else:
        text = f"{x:.4g}"
    return repr(x), text


def _embedded_figures(plots: Sequence[Plot]) -> str:
    sources = [f"data:image/png;base64,{base64.b64encode(p.path.read_bytes()).decode('ascii')}" for p in plots]
    return _figures(plots, sources)


def _linked_figures(plots: Sequence[Plot]) -> str:
    return _figures(plots, [Path(p.name).name for p in plots])


def _figures(plots: Sequence[Plot], sources: Sequence[str]) -> str:
    out = [
        f'<figure><img src="{esc(src)}" alt="{esc(plot.title)}">'
        f"<figcaption><strong>{esc(plot.title)}.</strong> {esc(plot.caption)}</figcaption></figure>"
        for plot, src in zip(plots, sources, strict=True)
    ]
    return f'<div class="figures">{"".join(out)}</div>' if out else ""


def _asset(name: str) -> str:
    """The text of ``report_assets/<name>``, package data beside this module, as it is in the file."""
    return (resources.files("deseq2_normalized") / "report_assets" / name).read_text(encoding="utf-8")


_STYLE = _asset(STYLE_FILE)

# Sorts a table's rows by the clicked column: numbers by their data-sort value (NA last),
# text alphabetically; a second click reverses. No user data is ever put into this script.
_SCRIPT = _asset(SCRIPT_FILE)

_TITLE = "DESeq2 on normalized counts: report"

# The page around the sections: a str.format template with the fields head, title, when, nav,
# body and script (see build_report).
_PAGE = _asset("page.html")
