"""The documentation's generated pages against what they document.

* The CLI page (``docs/_ext/cli_reference.py``) against the parser's own ``--help``: every command
  and sub-command (found by following the ``{a,b,…}`` choices of each help text) has a section, and
  each section lists exactly the options and positionals its ``--help`` lists.
* The API reference (``docs/api.rst``) against the README's *Public API* table: every name there has
  an autosummary entry (so a generated page) that is the very object the README points to.

The Sphinx build itself (warnings as errors, tutorials executed) runs in ``.ci/run``.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

from mixcalphad.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HELP_OPTIONS = {"-h", "--help"}


def load_cli_reference():
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "_ext" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def help_text(path: tuple[str, ...]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([*path, "--help"])
    return out.getvalue()


def commands_from_help(path: tuple[str, ...] = ()):
    """Every command path below ``path`` (itself included), from the choices ``--help`` prints."""
    yield path
    match = re.search(r"^positional arguments:\n\s+\{([^}]+)\}", help_text(path), re.MULTILINE)
    if match:
        for name in match.group(1).split(","):
            yield from commands_from_help((*path, name))


def arguments_from_help(text: str) -> set[str]:
    """Option strings and positional names of a ``--help`` text (help and sub-command choices excepted)."""
    found, in_arguments = set(), False
    for line in text.splitlines():
        if line and not line.startswith(" "):
            in_arguments = line.endswith(":") and not line.startswith("usage:")
            continue
        if not in_arguments or not re.match(r"^  \S", line) or line.strip().startswith("{"):
            continue
        invocation = re.split(r"\s{2,}", line.strip())[0]
        if invocation.startswith("-"):
            found |= set(re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", invocation))
        else:
            found.add(invocation)
    return found - HELP_OPTIONS


def sections_of(rst: str) -> dict[tuple[str, ...], str]:
    """``{("data", "build"): section text}`` of the generated page (``()`` for the top level)."""
    parts = re.split(r"^(mixcalphad(?: [\w-]+)*)\n-+\n", rst, flags=re.MULTILINE)
    return {tuple(title.split()[1:]): body for title, body in zip(parts[1::2], parts[2::2])}


def arguments_in_section(body: str) -> set[str]:
    found = set()
    for invocation in re.findall(r"^\.\. option:: (.+)$", body, flags=re.MULTILINE):
        if invocation.startswith("-"):
            found |= set(re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", invocation))
        else:
            found.add(invocation)
    return found


@pytest.fixture(scope="module")
def cli_page():
    return sections_of(load_cli_reference().cli_reference_rst())


def test_cli_page_has_a_section_for_every_command(cli_page):
    commands = list(commands_from_help())
    assert len(commands) > 20
    assert set(cli_page) == set(commands)


@pytest.mark.parametrize("path", list(commands_from_help()), ids=lambda p: " ".join(p) or "mixcalphad")
def test_cli_page_lists_every_option_of_the_command(cli_page, path):
    assert arguments_in_section(cli_page[path]) == arguments_from_help(help_text(path))


def test_cli_page_escapes_help_text():
    """Help text reaches the page as plain text: ``b_n*T`` must not start emphasis or a reference."""
    module = load_cli_reference()
    assert module._escape("L_n = a_n + b_n*T, see `x` |y|") == r"L\_n = a\_n + b\_n\*T, see \`x\` \|y\|"


def readme_public_names() -> dict[str, str]:
    """``{name: module}`` of every name in the README's *Public API* table (module ``mixcalphad``
    unless the row names another)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Public API", 1)[1].split("\n## ", 1)[0]
    names = {}
    for line in section.splitlines():
        cells = line.split("|")
        if len(cells) < 3 or "`" not in cells[1]:
            continue
        tokens = [t.split("(")[0] for t in re.findall(r"`([^`]+)`", cells[1])]
        modules = [t for t in tokens if t.startswith("mixcalphad")]
        for token in tokens:
            if not token.startswith("mixcalphad"):
                names[token] = modules[0] if modules else "mixcalphad"
    return names


def api_entries() -> dict[str, str]:
    """``{name: dotted path}`` of the autosummary entries of docs/api.rst (each block has a toctree)."""
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. autosummary::\n((?:   .*\n|\n)+)", text, flags=re.MULTILINE)
    assert blocks and all(":toctree:" in block for block in blocks)
    entries = [line.strip() for block in blocks for line in block.splitlines()
               if line.strip().startswith("mixcalphad.")]
    return {entry.rsplit(".", 1)[1]: entry for entry in entries}


def test_readme_table_is_read():
    names = readme_public_names()
    assert {"Store", "MiedemaPredictor", "seed_espei", "prepare_vasp_runs", "write_tdb"} <= set(names)
    assert names["MiedemaPredictor"] == "mixcalphad.model.predictor"
    assert names["prepare_vasp_runs"] == "mixcalphad.aimd"
    assert names["Store"] == "mixcalphad"


@pytest.mark.parametrize("name", sorted(readme_public_names()))
def test_every_public_name_has_an_api_page(name):
    module = readme_public_names()[name]
    entries = api_entries()
    assert name in entries, f"{name} (README's Public API table) has no autosummary entry in docs/api.rst"
    documented_module, _ = entries[name].rsplit(".", 1)
    documented = getattr(importlib.import_module(documented_module), name)
    assert documented is getattr(importlib.import_module(module), name)
