"""Sphinx configuration of the mixcalphad documentation.

Build from the repository root (warnings are errors; the tutorials execute)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Generated sources (the executed tutorials, the API stubs) are deleted and rebuilt on every build,
so nothing is cached from one build to the next.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import mixcalphad  # noqa: E402

project = "mixcalphad"
author = "mixcalphad developers"
copyright = "2026, mixcalphad developers"
release = version = mixcalphad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "cli_reference",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "tutorials/GALLERY_HEADER.rst", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# ----------------------------------------------------------------------------- generated sources
GENERATED = ("auto_tutorials", "generated")
for name in GENERATED:  # cache nothing across builds
    shutil.rmtree(DOCS / name, ignore_errors=True)

# ----------------------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"          # numpydoc's Parameters sections say the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out members a class inherits from other packages (scikit-learn's ``set_*_request``)."""
    module = getattr(obj, "__module__", None) or ""
    return True if module.split(".")[0] in ("sklearn",) else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)

# ----------------------------------------------------------------------------- Markdown
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# ----------------------------------------------------------------------------- tutorials
sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["auto_tutorials"],
    "filename_pattern": r"/t\d_",            # execute every tutorial
    "ignore_pattern": r"__init__\.py",     # matched on the file name
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": False,       # run all, then fail the build listing every failure
    "only_warn_on_example_error": False,
    "show_memory": False,
    "plot_gallery": "True",
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "capture_repr": (),                      # show what the tutorials print, not the last value
}

# ----------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"mixcalphad {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# pages without sub-pages: no empty left sidebar
html_sidebars = {page: [] for page in ("getting_started", "concepts", "cli", "benchmarks", "data", "development")}
html_show_sourcelink = False
