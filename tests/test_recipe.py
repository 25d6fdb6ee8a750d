"""The bioconda recipe (meta.yaml).

It renders offline, passes bioconda's offline lint rules, and its version agrees with
pyproject.toml, the package and the Galaxy tool's macros.xml.
"""

from __future__ import annotations

import importlib.metadata
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jinja2  # test dependencies (pyproject's [test] extra)
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
META = ROOT / "meta.yaml"
PACKAGE = "deseq2-normalized"
# Placeholder for the sdist checksum until the version is on PyPI (see meta.yaml).
UNRELEASED_HASH = "UNRELEASED"


def _pin_subpackage(name: str, max_pin: str = "x.x.x", exact: bool = False, **_: Any) -> str:
    return f"{name} {'==' if exact else '>='}PIN({max_pin})"


def render(text: str) -> str:
    """Render meta.yaml as conda-build would, with its Jinja functions stubbed."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    stubs = {
        "PYTHON": "$PYTHON",
        "pin_subpackage": _pin_subpackage,
        "pin_compatible": lambda name, **_: name,
        "compiler": lambda lang: f"{lang}-compiler",
        "cdt": lambda name: name,
        "environ": {},
        "os": __import__("os"),
    }
    return env.from_string(text).render(**stubs)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (bioconda lint: duplicate_key_in_meta_yaml)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}", node.start_mark)
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="module")
def raw() -> str:
    return META.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def meta(raw: str) -> dict[str, Any]:
    return yaml.load(render(raw), Loader=_UniqueKeyLoader)


def _names(requirements: list[str]) -> list[str]:
    return [r.split()[0] for r in requirements]


def _pyproject_version_source() -> str:
    """The attribute pyproject.toml reads the version from (it writes no version of its own)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert not re.search(r'^version\s*=\s*"', text, re.MULTILINE), "pyproject.toml writes a version of its own"
    match = re.search(r'^version\s*=\s*\{\s*attr\s*=\s*"([^"]+)"\s*\}', text, re.MULTILINE)
    assert match, "pyproject.toml does not read the version from the package"
    return match.group(1)


def _macro_token(name: str) -> str:
    tokens = {t.get("name"): (t.text or "") for t in ET.parse(ROOT / "tool" / "macros.xml").getroot().iter("token")}
    return tokens[name]


# -- versions ---------------------------------------------------------------------------------


def test_versions_agree(meta: dict[str, Any]) -> None:
    init = (ROOT / "src" / "deseq2_normalized" / "__init__.py").read_text()
    package_version = re.search(r'__version__ = "([^"]+)"', init)
    assert _pyproject_version_source() == "deseq2_normalized.__version__"
    versions = {
        "installed metadata (from pyproject.toml)": importlib.metadata.version(PACKAGE),
        "meta.yaml": str(meta["package"]["version"]),
        "tool/macros.xml @TOOL_VERSION@": _macro_token("@TOOL_VERSION@"),
        "deseq2_normalized.__version__": package_version.group(1) if package_version else None,
    }
    assert len(set(versions.values())) == 1, versions


def test_galaxy_requirement_uses_the_package_version() -> None:
    text = (ROOT / "tool" / "macros.xml").read_text()
    assert f'<requirement type="package" version="@TOOL_VERSION@">{PACKAGE}</requirement>' in text


# -- bioconda lint rules that need no network ---------------------------------------------------


def test_package_name_and_version(meta: dict[str, Any]) -> None:
    package = meta["package"]
    assert package["name"] == PACKAGE == package["name"].lower()
    assert not str(package["version"]).startswith("v")  # version_starts_with_v
    assert "-" not in str(package["version"])  # conda versions cannot hold '-'


def test_source_has_url_and_hash(meta: dict[str, Any]) -> None:
    source = meta["source"]
    assert source["url"].startswith("https://")
    assert "fn" not in source  # should_not_use_fn
    assert str(source["url"]).endswith(f"-{meta['package']['version']}.tar.gz")
    sha = str(source.get("sha256", ""))  # missing_hash
    assert sha == UNRELEASED_HASH or re.fullmatch(r"[0-9a-f]{64}", sha), sha


def test_build_section(meta: dict[str, Any]) -> None:
    build = meta["build"]
    assert build["number"] == 0  # missing_build_number; a first release starts at 0
    assert build["noarch"] == "python"  # should_be_noarch_python: pure Python
    assert build["script"] == "$PYTHON -m pip install . --no-deps --no-build-isolation -vvv"
    assert build["entry_points"] == ["deseq2-normalized = deseq2_normalized.cli:console_main"]
    # missing_run_exports: run_exports pinned on the package itself.
    assert build["run_exports"] == [f"{PACKAGE} >=PIN(x.x)"]
    assert "skip" not in build  # noarch recipes are never skipped per platform


def test_entry_point_matches_pyproject(meta: dict[str, Any]) -> None:
    scripts = re.search(r"\[project\.scripts\]\s*\n([^\[]+)", (ROOT / "pyproject.toml").read_text())
    assert scripts, "no [project.scripts] in pyproject.toml"
    declared = {
        k.strip(): v.strip().strip('"')
        for k, v in (ln.split("=", 1) for ln in scripts.group(1).splitlines() if "=" in ln)
    }
    for entry in meta["build"]["entry_points"]:
        name, target = (part.strip() for part in entry.split("="))
        assert declared.get(name) == target


@pytest.mark.r
def test_requirements(meta: dict[str, Any]) -> None:
    host, run = meta["requirements"]["host"], meta["requirements"]["run"]
    assert {"python", "pip"} <= set(_names(host))  # noarch python: python and pip in host
    assert "python" in _names(run)
    for needed in ("r-base", "bioconductor-deseq2", "rpy2", "pandas", "numpy"):
        assert needed in _names(run), needed
    assert "matplotlib" in " ".join(_names(run))
    assert "setuptools" not in _names(run)  # uses_setuptools
    assert not any("compiler" in r for r in host + run)  # noarch: no compilers
    assert "build" not in meta["requirements"]  # nothing to compile
    assert re.search(r"rpy2 >=3\.5", " ".join(run))
    # The same oldest Python as pyproject.toml's requires-python.
    requires = re.search(r'^requires-python = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert requires and f"python {requires.group(1)}" in run


def test_constraints_are_well_formed(meta: dict[str, Any]) -> None:
    """version_constraints_missing_whitespace: 'name >=1' not 'name>=1'."""
    for section in ("host", "run"):
        for requirement in meta["requirements"][section]:
            assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*( [<>=!~][^ ]*)?", requirement), requirement


def test_no_selectors_in_a_noarch_recipe(raw: str) -> None:
    """should_not_be_noarch_selector: a noarch recipe has no '# [..]' platform selectors."""
    assert not re.search(r"#\s*\[[^\]]+\]", raw)


def test_tests_section(meta: dict[str, Any]) -> None:
    test = meta["test"]  # missing_tests
    assert "deseq2_normalized" in test["imports"]
    assert "deseq2-normalized --help" in test["commands"]


def test_about_section(meta: dict[str, Any]) -> None:
    about = meta["about"]
    for key in ("home", "license", "license_file", "summary", "dev_url", "doc_url"):
        assert about.get(key), f"about/{key} missing"  # missing_home, missing_license, missing_summary
    assert about["license"] == "MIT"
    assert (ROOT / about["license_file"]).is_file()
    assert "MIT" in (ROOT / about["license_file"]).read_text()
    for key in ("home", "dev_url", "doc_url"):
        assert about[key].startswith("https://")


def test_extra_section(meta: dict[str, Any]) -> None:
    maintainers = meta["extra"]["recipe-maintainers"]
    assert isinstance(maintainers, list) and maintainers and all(isinstance(m, str) for m in maintainers)
    assert isinstance(meta["extra"].get("identifiers", []), list)  # extra_identifiers_not_list


def test_render_refuses_duplicate_keys() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("a: 1\na: 2\n", Loader=_UniqueKeyLoader)
