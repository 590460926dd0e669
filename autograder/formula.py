"""Formulas as structured trees, and their equivalence.

A derivation exercise asks for a SymPy expression. It leaves the student's
process as a tree of ``[node, ...]`` lists built only from the node types in
``NODES``; the grader checks the tree against that allow-list, evaluates it
itself (a few lines below, no ``eval``, no ``sympify`` of text) at random
points, and asks SymPy to simplify the difference with the reference.
"""

from __future__ import annotations

import math
import multiprocessing
from typing import Any, Iterable, Mapping

import numpy as np

MAX_NODES = 2_000
MAX_DEPTH = 60
MAX_INTEGER = 10**9

# SymPy class name -> (arity, numeric function). Arity None means "any number of arguments"
# (Heaviside carries its value at 0 as a second argument). Any other SymPy function that can be
# rewritten in terms of these (sech, coth, sec, cot, erfc, ...) is rewritten by to_tree.
FUNCTIONS = {
    "exp": (1, np.exp), "log": (1, np.log), "sin": (1, np.sin), "cos": (1, np.cos),
    "tan": (1, np.tan), "tanh": (1, np.tanh), "sinh": (1, np.sinh), "cosh": (1, np.cosh),
    "asin": (1, np.arcsin), "acos": (1, np.arccos), "atan": (1, np.arctan),
    "asinh": (1, np.arcsinh), "acosh": (1, np.arccosh), "atanh": (1, np.arctanh),
    "Abs": (1, np.abs), "sign": (1, np.sign), "erf": (1, None), "Heaviside": (None, None),
    "Max": (None, None), "Min": (None, None),
}
# What to try, in order, to rewrite a function the grader does not evaluate into ones it does.
REWRITE_TARGETS = ("exp", "log", "erf", "Heaviside")
CONSTANTS = {"pi": math.pi, "E": math.e, "ImaginaryUnit": 1j}
NODES = {"Add", "Mul", "Pow", "Symbol", "Integer", "Rational", "Float", *FUNCTIONS, *CONSTANTS}


class FormulaError(ValueError):
    """A formula tree that is not well formed or uses something not allowed."""


class FormulaUnsupported(FormulaError):
    """A formula that may well be right but uses a function the grader cannot evaluate:
    a limitation of the grader, reported as such rather than as the student's mistake."""


# ----------------------------------------------------------------- SymPy -> tree

def to_tree(expr) -> list:
    """Encode a SymPy expression (runs where the expression was made)."""
    import sympy

    if isinstance(expr, sympy.Symbol):
        return ["Symbol", expr.name]
    if isinstance(expr, sympy.Integer):
        return ["Integer", str(int(expr))]
    if isinstance(expr, sympy.Rational):
        return ["Rational", str(int(expr.p)), str(int(expr.q))]
    if isinstance(expr, sympy.Float):
        return ["Float", repr(float(expr))]
    name = type(expr).__name__
    if expr is sympy.pi:
        return ["pi"]
    if expr is sympy.E:
        return ["E"]
    if expr is sympy.I:
        return ["ImaginaryUnit"]
    if name in ("Add", "Mul", "Pow") or name in FUNCTIONS:
        return [name, *[to_tree(arg) for arg in expr.args]]
    if isinstance(expr, sympy.Function):
        for target in REWRITE_TARGETS:
            rewritten = expr.rewrite(getattr(sympy, target))
            if rewritten != expr and not _uses_unknown_function(rewritten):
                return to_tree(rewritten)
        raise FormulaUnsupported(
            f"the grader cannot evaluate {name}(...) (a limitation of the grader, not necessarily a "
            f"mistake in the formula); write it with {', '.join(sorted(FUNCTIONS))} and powers")
    raise FormulaError(f"{name} is not allowed in an answer formula")


def _uses_unknown_function(expr) -> bool:
    import sympy

    return any(type(f).__name__ not in FUNCTIONS for f in expr.atoms(sympy.Function))


# ----------------------------------------------------------------- validation

def check_tree(tree: Any, symbols: Iterable[str] | None = None) -> None:
    """Raise FormulaError unless ``tree`` is a small, well-formed allowed tree."""
    allowed = set(symbols) if symbols is not None else None
    count = 0

    def visit(node: Any, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise FormulaError("formula is too large")
        if depth > MAX_DEPTH:
            raise FormulaError("formula is nested too deeply")
        if not isinstance(node, list) or not node or not isinstance(node[0], str) or node[0] not in NODES:
            raise FormulaError(f"unknown formula node {str(node)[:40]!r}")
        kind, args = node[0], node[1:]
        if kind == "Symbol":
            if len(args) != 1 or not isinstance(args[0], str) or not args[0].isidentifier():
                raise FormulaError("malformed symbol")
            if allowed is not None and args[0] not in allowed:
                raise FormulaError(f"the symbol {args[0]!r} is not one of {sorted(allowed)}")
        elif kind in ("Integer", "Rational"):
            if len(args) != (1 if kind == "Integer" else 2) or not all(_small_int(a) for a in args):
                raise FormulaError(f"malformed or too large {kind.lower()}")
            if kind == "Rational" and int(args[1]) == 0:
                raise FormulaError("zero denominator")
        elif kind == "Float":
            if len(args) != 1 or not isinstance(args[0], str) or not math.isfinite(_float(args[0])):
                raise FormulaError("malformed float")
        elif kind in CONSTANTS:
            if args:
                raise FormulaError("malformed constant")
        else:
            arity = FUNCTIONS[kind][0] if kind in FUNCTIONS else (2 if kind == "Pow" else None)
            if (arity is not None and len(args) != arity) or not args:
                raise FormulaError(f"{kind} has the wrong number of arguments")
            for arg in args:
                visit(arg, depth + 1)

    visit(tree, 0)


def _small_int(text: Any) -> bool:
    return (isinstance(text, str) and text.lstrip("-").isdigit() and len(text) <= 12
            and abs(int(text)) <= MAX_INTEGER)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FormulaError("malformed float") from None


# ----------------------------------------------------------------- numeric evaluation

def evaluate(tree: list, values: Mapping[str, complex]) -> complex:
    """Evaluate a checked tree at a point, in complex arithmetic, without eval()."""
    kind, args = tree[0], tree[1:]
    if kind == "Symbol":
        return complex(values[args[0]])
    if kind == "Integer":
        return complex(int(args[0]))
    if kind == "Rational":
        return complex(int(args[0]) / int(args[1]))
    if kind == "Float":
        return complex(_float(args[0]))
    if kind in CONSTANTS:
        return complex(CONSTANTS[kind])
    vals = [evaluate(a, values) for a in args]
    with np.errstate(all="ignore"):
        if kind == "Add":
            return complex(sum(vals))
        if kind == "Mul":
            return complex(np.prod(vals))
        if kind == "Pow":
            return complex(np.power(np.complex128(vals[0]), np.complex128(vals[1])))
        if kind == "Max":
            return complex(max(v.real for v in vals))
        if kind == "Min":
            return complex(min(v.real for v in vals))
        if kind == "erf":
            return complex(math.erf(vals[0].real))
        if kind == "Heaviside":
            x, at_zero = vals[0].real, (vals[1].real if len(vals) > 1 else 0.5)
            return complex(1.0 if x > 0 else (0.0 if x < 0 else at_zero))
        return complex(FUNCTIONS[kind][1](np.complex128(vals[0])))


def numerically_equal(a: list, b: list, domains: Mapping[str, tuple[float, float]],
                      n_points: int = 12, seed: int = 0, rtol: float = 1e-8) -> tuple[bool, str]:
    """Compare two trees at ``n_points`` random points drawn from ``domains``."""
    rng = np.random.default_rng(seed)
    for _ in range(n_points):
        point = {name: rng.uniform(lo, hi) for name, (lo, hi) in domains.items()}
        x, y = evaluate(a, point), evaluate(b, point)
        if not (np.isfinite(x) and np.isfinite(y)):
            if np.isfinite(x) != np.isfinite(y):
                return False, f"at {_fmt(point)} one formula is finite and the other is not"
            continue
        if abs(x - y) > rtol * max(1.0, abs(y)):
            return False, f"at {_fmt(point)} the answer is {_num(x)} but should be {_num(y)}"
    return True, ""


# ----------------------------------------------------------------- symbolic check

def to_sympy(tree: list):
    """Rebuild a checked tree as a SymPy expression, node by node from the allow-list."""
    import sympy

    kind, args = tree[0], tree[1:]
    if kind == "Symbol":
        return sympy.Symbol(args[0], real=True)
    if kind == "Integer":
        return sympy.Integer(int(args[0]))
    if kind == "Rational":
        return sympy.Rational(int(args[0]), int(args[1]))
    if kind == "Float":
        return sympy.Float(_float(args[0]))
    if kind in CONSTANTS:
        return {"pi": sympy.pi, "E": sympy.E, "ImaginaryUnit": sympy.I}[kind]
    built = [to_sympy(a) for a in args]
    return getattr(sympy, kind)(*built)


def symbolically_equal(a: list, b: list, seconds: float = 10) -> bool | None:
    """True if SymPy simplifies a - b to zero, None if it cannot decide in time.

    SymPy runs in a forked child that is killed after ``seconds``: a hostile
    formula (say a tower of huge integer powers) can stall SymPy inside C code
    where no alarm reaches it, and it must not stall the grader.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_simplify_difference, args=(a, b, send), daemon=True)
    child.start()
    send.close()
    verdict = None
    if receive.poll(seconds):
        try:
            verdict = receive.recv()
        except EOFError:
            verdict = None
    if child.is_alive():
        child.kill()
    child.join()
    return True if verdict else None


def _simplify_difference(a: list, b: list, send) -> None:
    import sympy

    send.send(bool(sympy.simplify(to_sympy(a) - to_sympy(b)) == 0))


def equivalent(answer: list, reference: list, domains: Mapping[str, tuple[float, float]],
               seed: int = 0) -> tuple[bool, str]:
    """The verdict on a derivation: equal at random points, confirmed symbolically when SymPy can."""
    check_tree(answer, domains)
    same, why = numerically_equal(answer, reference, domains, seed=seed)
    if not same:
        return False, why
    if symbolically_equal(answer, reference):
        return True, "equal at random points and by symbolic simplification"
    return True, "equal at random points (symbolic simplification was inconclusive)"


def tree_to_text(tree: Any) -> str:
    """A readable rendering of a tree, for reports only."""
    if not isinstance(tree, list) or not tree:
        return "?"
    kind, args = tree[0], tree[1:]
    if kind == "Symbol":
        return str(args[0])
    if kind in ("Integer", "Float"):
        return str(args[0])
    if kind == "Rational":
        return f"{args[0]}/{args[1]}"
    if kind in CONSTANTS:
        return kind
    inner = [tree_to_text(a) for a in args]
    if kind == "Add":
        return "(" + " + ".join(inner) + ")"
    if kind == "Mul":
        return "*".join(inner)
    if kind == "Pow":
        return f"{inner[0]}**{inner[1]}"
    return f"{kind}({', '.join(inner)})"


def _fmt(point: Mapping[str, float]) -> str:
    return "{" + ", ".join(f"{k}={v:.3g}" for k, v in point.items()) + "}"


def _num(z: complex) -> str:
    return f"{z.real:.6g}" if abs(z.imag) < 1e-12 else f"{z:.6g}"
