"""Compare a decoded answer with the decoded reference output.

This runs only in the grader's own process, on plain data, so nothing a
student defines (an ``__eq__`` that always says yes, a patched ``allclose``)
takes part. Every mismatch is described in words a student can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .codec import Formula, Tensor


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-5
    atol: float = 1e-8
    # "kind": float vs int vs bool must agree, for numbers as for arrays (a Python or numpy integer
    # for an integer, a Python or numpy float for a float); "exact": the dtype must agree too;
    # "any": only the values matter.
    dtype: str = "kind"

    def as_dict(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol, "dtype": self.dtype}


def compare(expected: Any, actual: Any, tol: Tolerance, where: str = "answer") -> list[str]:
    """Return the list of differences between ``actual`` and ``expected`` (empty if equal)."""
    if isinstance(expected, Formula):
        # Formulas are judged by autograder.formula, which needs the exercise's symbols.
        raise TypeError("formulas are compared with autograder.formula.equivalent")
    if isinstance(expected, Tensor):
        if not isinstance(actual, Tensor):
            return [f"{where}: expected a torch.Tensor, got {_describe(actual)}"]
        return _compare_arrays(expected.array, actual.array, tol, where)
    if isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            return [f"{where}: expected a numpy array, got {_describe(actual)}"]
        return _compare_arrays(expected, actual, tol, where)
    if isinstance(expected, bool):
        value = _as_scalar(actual)
        if not isinstance(value, bool):
            return [f"{where}: expected a bool, got {_describe(actual)}"]
        return [] if value == expected else [f"{where}: expected {expected}, got {value}"]
    if isinstance(expected, (int, float)):
        value = _as_scalar(actual)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{where}: expected a number, got {_describe(actual)}"]
        if tol.dtype != "any" and isinstance(expected, int) != isinstance(value, int):
            # "kind": 3600.0 is not the count 3600, and 2 is not the float 2.0 (as for arrays)
            wanted = f"the whole number {expected}" if isinstance(expected, int) else "a float"
            return [f"{where}: expected {wanted}, got {_describe(actual)}"]
        return _compare_arrays(np.asarray(expected), np.asarray(value), Tolerance(tol.rtol, tol.atol, "any"), where)
    if isinstance(expected, str) or expected is None:
        return [] if actual == expected and type(actual) is type(expected) else [f"{where}: expected {expected!r}, got {_describe(actual)}"]
    if isinstance(expected, (list, tuple)):
        if type(actual) is not type(expected):
            if not (isinstance(actual, (list, tuple)) and tol.dtype == "any"):
                return [f"{where}: expected a {type(expected).__name__}, got {_describe(actual)}"]
        if len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {len(actual)}"]
        problems: list[str] = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            problems += compare(e, a, tol, f"{where}[{i}]")
        return problems
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a dict, got {_describe(actual)}"]
        if set(actual) != set(expected):
            return [f"{where}: expected the keys {sorted(expected)}, got {sorted(actual)}"]
        problems = []
        for key in expected:
            problems += compare(expected[key], actual[key], tol, f"{where}[{key!r}]")
        return problems
    raise TypeError(f"cannot compare reference values of type {type(expected).__name__}")


def _compare_arrays(expected: np.ndarray, actual: np.ndarray, tol: Tolerance, where: str) -> list[str]:
    if expected.shape != actual.shape:
        return [f"{where}: expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}"]
    if tol.dtype == "exact" and expected.dtype != actual.dtype:
        return [f"{where}: expected dtype {expected.dtype}, got {actual.dtype}"]
    if tol.dtype == "kind" and _kind(expected) != _kind(actual):
        return [f"{where}: expected {_kind(expected)} values, got {_kind(actual)} values ({actual.dtype})"]
    if expected.dtype.kind in "biu" and actual.dtype.kind in "biu":
        bad = expected != actual
    else:
        e = expected.astype(np.complex128 if "c" in (expected.dtype.kind + actual.dtype.kind) else np.float64)
        a = actual.astype(e.dtype)
        bad = ~np.isclose(a, e, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
    if not bad.any():
        return []
    count = int(bad.sum())
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    e_val, a_val = expected[first] if first else expected[()], actual[first] if first else actual[()]
    at = f" at index {first}" if first else ""
    return [f"{where}: {count} of {bad.size} values differ{at}: expected {plain(e_val)}, got {plain(a_val)} "
            f"(rtol={tol.rtol:g}, atol={tol.atol:g})"]


def plain(value: Any, width: int = 60) -> str:
    """A value as a student would write it: 0.5, not np.float64(0.5); arrays abridged to ``width``."""
    if isinstance(value, Tensor):
        value = value.array
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        text = f"{value:.6g}"
        return text if any(c in text for c in ".en") else text + ".0"  # 2.0 stays a float
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, separator=", ", threshold=8, edgeitems=2).replace("\n", "")
        return text if len(text) <= width else f"an array of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _kind(a: np.ndarray) -> str:
    return {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}.get(a.dtype.kind, a.dtype.kind)


def _as_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.shape != ():
            return None
        return value.item()
    if isinstance(value, Tensor):
        return _as_scalar(value.array)
    return value


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a torch.Tensor of shape {tuple(value.array.shape)}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {tuple(value.shape)}" if value.shape else f"numpy {value.dtype} {value.item()!r}"
    if isinstance(value, Formula):
        return f"the formula {value!r}"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {value!r}"
