"""Every third-party package that src/ imports is declared in pyproject.toml: the core dependencies
for an import at module level, the core dependencies or an extra for one inside a function (the
optional features: MLIP, jobflow, dask)."""
import ast
import functools
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src" / "mixcalphad"


def normalize(name: str) -> str:
    """PEP 503 name of a distribution (``PyYAML`` and ``pyyaml`` are one)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements() -> tuple[set[str], set[str]]:
    """Normalized distribution names of the core dependencies and of all extras of pyproject.toml."""
    tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {normalize(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r).group()) for r in requirements}

    extras = set().union(*map(names, project.get("optional-dependencies", {}).values()))
    return names(project["dependencies"]), extras


def third_party_imports(folder: Path) -> dict[str, dict[str, bool]]:
    """Top-level third-party module → {file:line: imported at module level?} of every ``.py`` under ``folder``."""
    found: dict[str, dict[str, bool]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ("mixcalphad", "__future__"):
                    continue
                found.setdefault(top, {})[f"{path.relative_to(folder.parent)}:{node.lineno}"] = id(node) in module_level
    return found


@functools.lru_cache(maxsize=None)
def installed_distributions() -> dict[str, list[str]]:
    """Top-level module → the installed distributions that provide it."""
    return importlib.metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    """Normalized distributions that provide ``module``; an uninstalled optional one is taken to be
    named like its module (chgnet, sevenn, atomate2)."""
    return {normalize(d) for d in installed_distributions().get(module, [module])}


def undeclared(folder: Path, core: set[str], extras: set[str]) -> list[str]:
    problems = []
    for module, where in sorted(third_party_imports(folder).items()):
        dists = distributions_of(module)
        if dists & core:
            continue
        top_level = sorted(place for place, at_top in where.items() if at_top)
        if top_level:
            problems.append(f"{module} ({'/'.join(sorted(dists))}) imported at module level in {top_level[0]} "
                            "but not a core dependency")
        elif not dists & extras:
            problems.append(f"{module} ({'/'.join(sorted(dists))}) imported in {sorted(where)[0]} but not declared")
    return problems


def test_every_third_party_import_of_src_is_declared():
    core, extras = declared_requirements()
    assert undeclared(SRC, core, extras) == []


def test_an_undeclared_import_is_caught(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("import yaml\nfrom sklearn.base import clone\n\n\ndef f():\n    import lightgbm\n")
    core, extras = {"scikit-learn"}, {"lightgbm"}
    assert undeclared(package, core, extras) == [
        "yaml (pyyaml) imported at module level in pkg/a.py:1 but not a core dependency"]
    assert undeclared(package, core, set()) == [
        "lightgbm (lightgbm) imported in pkg/a.py:6 but not declared",
        "yaml (pyyaml) imported at module level in pkg/a.py:1 but not a core dependency"]
    assert undeclared(package, {"scikit-learn", "pyyaml", "lightgbm"}, set()) == []
