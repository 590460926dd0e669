"""Run only the cells the answers need.

A chapter's demonstrations (training a model, drawing figures, widgets) take
most of its run time and nothing in them can change a grade: the book's rule
is that no cell after an exercise uses the exercise's answer, and the grader
calls the student's code on its own inputs. So the grader runs the first cell
(the chapter's setup), the import cells, the answer cells and every cell that
defines a name those cells read, transitively, wherever it is in the notebook.

A cell *defines* a name when it binds it (assignment, ``def``, ``class``,
``import``, ``for``, ``with``) or changes it in place (``x[0] = 1``,
``model.weight = w``, a statement ``cache.update(...)``). For imported modules
only bindings count: ``torch.manual_seed(0)`` does not make a cell a
definition of ``torch``. A name only read through a string
(``globals()["x"]``) is not seen; answers are meant to be self-contained, and
``--no-prune`` runs every cell.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field

BUILTINS = set(dir(builtins))


@dataclass
class CellNames:
    binds: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    changes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    imports_only: bool = False
    parsed: bool = True


def names(source: str) -> CellNames:
    """The names a cell binds, changes in place and reads (module-level names only).

    Python's own symbol tables tell which names inside functions, lambdas and
    comprehensions are local and which refer to the notebook's globals.
    """
    try:
        code = _python(source)
        table = symtable.symtable(code, "<cell>", "exec")
        tree = ast.parse(code)
    except SyntaxError:
        return CellNames(parsed=False)
    found = CellNames(imports_only=bool(tree.body) and all(isinstance(s, (ast.Import, ast.ImportFrom))
                                                           for s in tree.body))
    _collect(table, found)
    for node in _module_level(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.imports |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.changes.add(_base_name(node))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Attribute):
            found.changes.add(_base_name(node.value.func))
    found.changes.discard(None)
    found.reads -= BUILTINS
    return found


def _collect(table: symtable.SymbolTable, found: CellNames) -> None:
    module = table.get_type() == "module"
    for symbol in table.get_symbols():
        name = symbol.get_name()
        global_here = module or symbol.is_global()
        if global_here and symbol.is_referenced():
            found.reads.add(name)
        if (module and (symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace())) \
                or (symbol.is_declared_global() and symbol.is_assigned()):
            found.binds.add(name)
    for child in table.get_children():
        _collect(child, found)


def _module_level(tree: ast.Module):
    """Every node of the cell outside function and class bodies."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def needed(cells: list[dict], exercise_names: list[str]) -> list[int]:
    """Indices of the cells to run: setup, imports, answers, and what they need."""
    info = [names(c["source"]) for c in cells]
    modules = set().union(*(i.imports for i in info))
    keep = {i for i, c in enumerate(cells) if i == 0 or c["role"] == "student" or info[i].imports_only}
    wanted = set(exercise_names).union(*(info[i].reads for i in keep))
    settled: set[str] = set()
    while wanted - settled:
        name = (wanted - settled).pop()
        settled.add(name)
        for i, cell in enumerate(info):
            defines = cell.binds if name in modules else cell.binds | cell.changes
            if name in defines and i not in keep:
                keep.add(i)
                wanted |= cell.reads
    return sorted(keep)


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _python(source: str) -> str:
    """The cell as plain Python (IPython magics and shell escapes turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)
