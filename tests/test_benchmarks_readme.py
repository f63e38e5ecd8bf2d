"""Every table in benchmarks/README.md names the command that printed it, and that command runs.

A Markdown table needs, on the nearest non-blank line above it, a command in backticks
(`` `python benchmarks/x.py --flag` ``, `` `mixcalphad acquire --n 20` ``); a fenced block of output
starts with its ``$ command`` lines. A command is checked without being run: the script exists under
benchmarks/ or scripts/ and its ``build_parser()`` accepts the arguments (``mixcalphad …``: the
command line's own parser).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from benchmark_helpers import ROOT, load_script

README = ROOT / "benchmarks" / "README.md"
SCRIPT_FOLDERS = ("benchmarks", "scripts")
_SEPARATOR = re.compile(r"^\|\s*:?-{3,}")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def tables(text: str) -> list[tuple[int, list[str]]]:
    """(line number of the table or fenced block, the commands that name it) for every table of ``text``.

    Markdown table: the backticked commands of the nearest non-blank line above it. Fenced block: its
    ``$ `` lines.
    """
    lines = text.splitlines()
    found, fenced, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            if not fenced:
                block = []
                for inner in lines[i + 1:]:
                    if inner.startswith("```"):
                        break
                    block.append(inner)
                found.append((i + 1, [b[2:] for b in block if b.startswith("$ ")]))
                i += len(block) + 2
                continue
        elif line.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            found.append((i + 1, [c for c in re.findall(r"`([^`]+)`", above) if _is_command(c)]))
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            continue
        i += 1
    return found


def _argv(command: str) -> list[str]:
    """The words of ``command`` without environment assignments, ``nice [-n N]`` and a trailing comment."""
    words = shlex.split(command, comments=True)
    while words and _ENV.match(words[0]):
        words.pop(0)
    if words[:1] == ["nice"]:
        words.pop(0)
        if words[:1] == ["-n"]:
            words[:2] = []
        elif words and re.fullmatch(r"-\d+", words[0]):
            words.pop(0)
    return words


def _is_command(text: str) -> bool:
    words = _argv(text) if text.strip() else []
    return bool(words) and (words[0] == "mixcalphad" or (words[0] == "python" and len(words) > 1
                                                          and words[1].startswith(SCRIPT_FOLDERS)))


def _script_parser(path: Path):
    module = load_script(path)
    if not hasattr(module, "build_parser"):
        raise AssertionError(f"{path.relative_to(ROOT)} has no build_parser(): its flags cannot be checked")
    return module.build_parser()


def command_problem(command: str) -> str | None:
    """Why ``command`` is not a runnable benchmark/script/CLI command line, or None when it is."""
    words = _argv(command)
    if words[:1] == ["mixcalphad"]:
        from mixcalphad.cli import build_parser

        parser, args = build_parser(), words[1:]
    elif words[:1] == ["python"] and len(words) > 1:
        path = ROOT / words[1]
        if not words[1].startswith(SCRIPT_FOLDERS) or not path.is_file():
            return f"no script {words[1]} under benchmarks/ or scripts/"
        parser, args = _script_parser(path), words[2:]
    else:
        return "not a 'python benchmarks/…', 'python scripts/…' or 'mixcalphad …' command"
    try:
        parser.parse_args(args)
    except SystemExit:
        return f"its parser rejects {' '.join(args)!r}"
    return None


def check(text: str) -> list[str]:
    """Every table of ``text`` without a command, or with a command that does not parse, as messages."""
    problems = []
    for line, commands in tables(text):
        if not commands:
            problems.append(f"README line {line}: no command names this table")
        for command in commands:
            why = command_problem(command)
            if why:
                problems.append(f"README line {line}: `{command}`: {why}")
    return problems


def test_every_table_of_the_benchmarks_readme_names_a_command_that_parses(capsys):
    found = tables(README.read_text(encoding="utf-8"))
    assert len(found) >= 20  # the README's tables were found at all
    problems = check(README.read_text(encoding="utf-8"))
    capsys.readouterr()  # argparse's own messages
    assert not problems, "\n".join(problems)


def test_a_table_without_a_command_is_reported():
    text = "Some results:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert check(text) == ["README line 3: no command names this table"]


def test_a_table_named_by_a_command_passes():
    text = ("`OMP_NUM_THREADS=1 nice -n 10 python benchmarks/gap_scan.py some.tdb --fit-stats`\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            "`mixcalphad acquire --n 20`\n| a |\n|---|\n| 1 |\n")
    assert check(text) == []


def test_an_unknown_flag_a_missing_script_and_output_without_a_command_are_reported(capsys):
    text = ("`python benchmarks/accuracy.py --no-such-flag`\n| a |\n|---|\n| 1 |\n\n"
            "`python benchmarks/no_such_script.py`\n| a |\n|---|\n| 1 |\n\n"
            "```\n=== output ===\n```\n\n"
            "```\n$ python benchmarks/liquidus.py --models no-such-liquid   # comment\n| a |\n```\n")
    problems = check(text)
    capsys.readouterr()
    assert problems == [
        "README line 2: `python benchmarks/accuracy.py --no-such-flag`: its parser rejects '--no-such-flag'",
        "README line 7: `python benchmarks/no_such_script.py`: no script benchmarks/no_such_script.py under "
        "benchmarks/ or scripts/",
        "README line 11: no command names this table",
        "README line 15: `python benchmarks/liquidus.py --models no-such-liquid   # comment`: its parser rejects "
        "'--models no-such-liquid'",
    ]


@pytest.mark.parametrize("command", ["python benchmarks/gap_scan.py", "nice python scripts/build_liquidus_table.py "
                                     "--calibrate", "mixcalphad liquidus x.tdb --elements CU NI"])
def test_shipped_commands_parse(command):
    assert command_problem(command) is None
