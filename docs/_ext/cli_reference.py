"""The command-line reference, generated from ``mixcalphad.cli.build_parser()`` at build time.

:func:`cli_reference_rst` walks the argparse parser — every command, every sub-command, every
positional and option but ``-h/--help`` — and writes reStructuredText: one section per command with
its help, its usage line as argparse prints it, and a Sphinx ``option`` entry per argument (its
invocation as in ``--help``, its help text with ``%(default)s`` expanded). The directive
``.. mixcalphad-cli::`` inserts that text, so the page can never drift from the parser.
"""
from __future__ import annotations

import argparse
import re

_RST_SPECIAL = re.compile(r"([\\*`|_])")


def _escape(text: str) -> str:
    """Plain text as reStructuredText that renders the same (no emphasis, roles or references)."""
    return _RST_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def iter_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """``(path, parser)`` of the parser and every sub-command below it, depth first, in
    the order the parser lists them; ``path`` is ``()`` for the top level, ``("data", "build")``…"""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from iter_commands(sub, (*path, name))


def _help_of_children(parser: argparse.ArgumentParser) -> dict[str, str]:
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                out[choice.dest] = choice.help or ""
    return out


def arguments(parser: argparse.ArgumentParser):
    """``(invocation, help)`` of every argument of ``parser`` except help and sub-command choices,
    as ``--help`` shows them (``-o OUTPUT, --output OUTPUT``; ``user_tdb``)."""
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        text = formatter._expand_help(action) if action.help else ""
        yield formatter._format_action_invocation(action), text


def cli_reference_rst(parser: argparse.ArgumentParser | None = None, prog: str = "mixcalphad") -> str:
    """The reference of every command of ``parser`` (default mixcalphad's) as reStructuredText."""
    if parser is None:
        from mixcalphad.cli import build_parser

        parser = build_parser()
    helps: dict[tuple[str, ...], str] = {}
    lines: list[str] = []
    for path, sub in iter_commands(parser):
        helps.update({(*path, name): text for name, text in _help_of_children(sub).items()})
        title = " ".join((prog, *path))
        lines += [f".. _cli-{'-'.join(path) or 'top'}:", "", title, "-" * len(title), ""]
        for text in dict.fromkeys((helps.get(path), sub.description)):  # the parent's help, then its own
            if text:
                lines += [_escape(text), ""]
        children = _help_of_children(sub)
        if children:
            lines += ["Sub-commands: " + ", ".join(f":ref:`{name} <cli-{'-'.join((*path, name))}>`"
                                                  for name in children), ""]
        lines += [".. code-block:: text", ""]
        lines += ["   " + line for line in sub.format_usage().rstrip().splitlines()]
        lines += ["", f".. program:: {title}", ""]
        for invocation, text in arguments(sub):
            lines += [f".. option:: {invocation}", ""]
            lines += [f"   {_escape(text)}" if text else "   (no help text)", ""]
    return "\n".join(lines) + "\n"


def setup(app):
    """Register ``.. mixcalphad-cli::``, which inserts :func:`cli_reference_rst` (Sphinx imported here
    only, so that the tests can import this module without the docs extra)."""
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class CliReference(SphinxDirective):
        has_content = False

        def run(self):
            node = nodes.section()
            node.document = self.state.document
            lines = StringList(cli_reference_rst().splitlines(), source="mixcalphad.cli")
            nested_parse_with_titles(self.state, lines, node)
            return node.children

    app.add_directive("mixcalphad-cli", CliReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
