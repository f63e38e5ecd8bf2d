"""Names in src/: private names (``_x``) stay inside their module — what two modules share is public
in one of them —, and one public name means one thing.

A private *module* (``mixcalphad._io``, ``mixcalphad.acquisition._util``) is package-internal by
design and may be imported, as long as the names taken from it are public.
"""
import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).parents[1] / "src"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    """The absolute module of a ``from … import`` (relative imports resolved against ``here``)."""
    if node.level == 0:
        return node.module or ""
    base = here.split(".")[: len(here.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def cross_module_private_uses(root: Path, package: str = "mixcalphad") -> list[str]:
    """``file:line: what`` for every underscore name one module of ``package`` takes from another:
    ``from package.m import _x`` and ``m._x`` on an imported module ``m``."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        here = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules = {}  # local name → imported module of the package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = absolute(node, here, path.name == "__init__.py")
                if source.split(".")[0] != package:
                    continue
                for alias in node.names:
                    if private(alias.name) and not is_module(f"{source}.{alias.name}", root):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: from {source} import {alias.name}")
                    elif is_module(f"{source}.{alias.name}", root):
                        modules[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package and alias.asname:
                        modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and modules[node.value.id] != here):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    assert cross_module_private_uses(SRC) == []


def test_the_scan_finds_private_imports_and_attributes(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for name in ("__init__.py", "sub/__init__.py", "_io.py"):
        (pkg / name).write_text("")
    (pkg / "sub" / "a.py").write_text("def _helper():\n    pass\n\n\ndef shared():\n    _helper()\n")
    (pkg / "sub" / "b.py").write_text(
        "from pkg.sub.a import _helper, shared\n"
        "from . import a\n"
        "from .a import _helper as h\n"
        "import pkg.sub.a as mod\n"
        "from pkg import _io\n"
        "from pkg._io import write\n"
        "a._helper()\n"
        "mod._helper()\n")
    assert cross_module_private_uses(tmp_path, "pkg") == [
        "pkg/sub/b.py:1: from pkg.sub.a import _helper",
        "pkg/sub/b.py:3: from pkg.sub.a import _helper",
        "pkg/sub/b.py:7: pkg.sub.a._helper",
        "pkg/sub/b.py:8: pkg.sub.a._helper",
    ]


#: Names every command module of the CLI defines by design (``register(subparsers)``).
CLI_PROTOCOL = {"register"}


def homonyms(root: Path, package: str = "mixcalphad") -> dict[str, list[str]]:
    """Public top-level functions and classes defined in more than one module: name → modules."""
    where = defaultdict(list)
    for path in sorted((root / package).rglob("*.py")):
        here = module_name(path, root)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if not (here.startswith(f"{package}.cli.") and node.name in CLI_PROTOCOL):
                    where[node.name].append(here)
    return {name: modules for name, modules in where.items() if len(modules) > 1}


def test_one_public_name_is_defined_once():
    """``rk_basis`` was the Redlich–Kister design matrix in calphad and bare powers of t in model."""
    assert homonyms(SRC) == {}


def test_the_homonym_scan_finds_a_name_defined_twice(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "a.py").write_text("def basis(x):\n    pass\n\n\ndef _own():\n    pass\n")
    (pkg / "b.py").write_text("class basis:\n    pass\n\n\ndef _own():\n    pass\n")
    for name in ("x.py", "y.py"):
        (pkg / "cli" / name).write_text("def register(sub):\n    pass\n")
    assert homonyms(tmp_path, "pkg") == {"basis": ["pkg.a", "pkg.b"]}
