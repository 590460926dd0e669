"""Student notebooks import only what Colab ships by default, and install nothing.

Imports are read with ``ast`` from every code cell, after IPython's own input transformer has turned
magics (``%matplotlib``, ``!ls``, ``%%time``) into ordinary calls; the Python body of the cell magics
that run it (``%%time``, ``%%capture``, ...) is read too.
"""

from __future__ import annotations

import ast
import sys

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

# What a fresh Colab runtime imports without a `pip install`, besides the standard library.
COLAB = {"torch", "numpy", "matplotlib", "matplotlib_inline", "ipywidgets", "IPython", "scipy", "sklearn",
         "networkx", "sympy"}
ALLOWED = COLAB | set(sys.stdlib_module_names)
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # their body is Python
INSTALLERS = {"pip", "conda", "mamba", "uv"}

_transformer = TransformerManager()


def _python(source: str) -> ast.Module:
    return ast.parse(_transformer.transform_cell(source))


def _magic_call(node: ast.AST) -> tuple[str, list[str]] | None:
    """For get_ipython().run_line_magic/run_cell_magic/system(...) calls: (method, constant arguments)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and isinstance(node.func.value, ast.Call) and getattr(node.func.value.func, "id", "") == "get_ipython":
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        return node.func.attr, args
    return None


def problems_in(nb: nbformat.NotebookNode, where: str) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            trees = [_python(cell.source)]
        except SyntaxError as error:
            problems.append(f"{where}: cell {index} is not Python: {error}")
            continue
        while trees:
            for node in ast.walk(trees.pop()):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module]
                elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) \
                        in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                    names = [str(node.args[0].value)]
                elif call := _magic_call(node):
                    method, args = call
                    if method == "run_cell_magic" and args and args[0] in PYTHON_CELL_MAGICS and len(args) == 3:
                        trees.append(_python(args[2]))
                    command = " ".join(args).split()
                    if (method == "run_line_magic" and args and args[0] in INSTALLERS and "install" in command) or \
                            (method == "system" and command[:1] and command[0].split("/")[-1] in INSTALLERS | {"apt-get", "apt"}):
                        problems.append(f"{where}: cell {index} installs something: {' '.join(args)!r}")
                    continue
                else:
                    continue
                for name in names:
                    if name.split(".")[0] not in ALLOWED:
                        problems.append(f"{where}: cell {index} imports {name}, which Colab does not ship")
    return problems


def test_student_notebook_imports_only_what_colab_ships(chapter):
    nb = nbformat.read(chapter.student, as_version=4)
    assert problems_in(nb, str(chapter.student)) == []


def _notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_the_check_rejects_packages_colab_lacks():
    nb = _notebook("import numpy as np\nimport pandas as pd",
                   "%matplotlib inline\nfrom transformers import AutoModel",
                   "def f():\n    import einops.layers\n    return 1",
                   "%%time\nimport polars",
                   "import importlib\nlib = importlib.import_module('jax')",
                   "!pip install timm",
                   "%pip install -q seaborn")
    problems = problems_in(nb, "bad.ipynb")
    for package in ("pandas", "transformers", "einops.layers", "polars", "jax"):
        assert any(f"imports {package}," in p for p in problems), (package, problems)
    assert sum("installs something" in p for p in problems) == 2, problems
    assert not any("numpy" in p or "importlib" in p for p in problems), problems


def test_the_check_accepts_colab_packages_the_standard_library_and_magics():
    nb = _notebook("import os, sys, json, random\nfrom collections import Counter\nfrom . import sibling",
                   "%matplotlib inline\n%config InlineBackend.figure_format = 'svg'\n!nvidia-smi",
                   "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nimport numpy as np",
                   "from matplotlib_inline.backend_inline import set_matplotlib_formats\nimport ipywidgets as widgets",
                   "from IPython.display import display\nimport scipy.linalg, sklearn.datasets, networkx, sympy",
                   "%%capture\nimport matplotlib.pyplot as plt",
                   "%%bash\necho import pandas")
    assert problems_in(nb, "good.ipynb") == []
