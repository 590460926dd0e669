"""Plain-data encoding of exercise inputs and answers.

Values cross the sandbox boundary as JSON in which arrays are tagged objects
holding raw little-endian bytes. Nothing is ever pickled: decoding builds only
numbers, strings, lists, dicts and numpy arrays (torch tensors on request), so
a hostile answer cannot make the grader run code by being decoded.

``encode`` runs wherever the value was produced (the student's sandbox, the
reference run); ``decode`` runs in the grader and validates everything it reads.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

ARRAY_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}
MAX_DEPTH = 32
MAX_ITEMS = 10_000_000  # elements in one array


class CodecError(ValueError):
    """A value that cannot be sent as plain data, or data that is not well formed."""


# --------------------------------------------------------------------------- encode

def encode(value: Any, _depth: int = 0) -> Any:
    """Turn a Python value into JSON-ready plain data."""
    if _depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _encode_float(float(value))
    if isinstance(value, (np.generic, np.ndarray)):
        return {"__ndarray__": _encode_array(np.asarray(value))}
    if _is_tensor(value):
        return {"__tensor__": _encode_array(_tensor_to_numpy(value))}
    if _is_sympy(value):
        from .formula import to_tree
        return {"__formula__": to_tree(value)}
    if isinstance(value, (list, tuple)):
        tag = "__list__" if isinstance(value, list) else "__tuple__"
        return {tag: [encode(v, _depth + 1) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CodecError("dictionary keys must be strings")
        return {"__dict__": {k: encode(v, _depth + 1) for k, v in value.items()}}
    raise CodecError(f"cannot send a value of type {type(value).__name__}")


def _encode_float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _encode_array(a: np.ndarray) -> dict:
    if a.dtype.name not in ARRAY_DTYPES:
        raise CodecError(f"arrays of dtype {a.dtype} cannot be sent")
    data = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"dtype": a.dtype.name, "shape": list(a.shape), "data": base64.b64encode(data).decode("ascii")}


def _is_tensor(value: Any) -> bool:
    torch = _module("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _tensor_to_numpy(t) -> np.ndarray:
    import torch
    t = t.detach().to("cpu")
    if t.dtype == torch.bfloat16:
        t = t.to(torch.float32)
    return t.resolve_conj().resolve_neg().numpy()


def _is_sympy(value: Any) -> bool:
    sympy = _module("sympy")
    return sympy is not None and isinstance(value, sympy.Basic)


def _module(name: str):
    import sys
    return sys.modules.get(name)


# --------------------------------------------------------------------------- decode

def decode(data: Any, *, tensors: bool = False, _depth: int = 0) -> Any:
    """Rebuild a value from plain data, validating its structure.

    Arrays come back as numpy arrays wrapped in :class:`Tensor` markers unless
    ``tensors`` is true, in which case real ``torch.Tensor`` objects are built
    (used inside the sandbox to call the student's function with tensors).
    """
    if _depth > MAX_DEPTH:
        raise CodecError("data is nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, int):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        raise CodecError("bare lists are not valid encoded data")
    if not isinstance(data, dict) or len(data) != 1:
        raise CodecError("malformed encoded value")
    (tag, body), = data.items()
    if tag == "__float__":
        if body not in ("nan", "inf", "-inf"):
            raise CodecError("malformed float")
        return float(body)
    if tag == "__ndarray__":
        return _decode_array(body)
    if tag == "__tensor__":
        array = _decode_array(body)
        if tensors:
            import torch
            return torch.from_numpy(array.copy())
        return Tensor(array)
    if tag == "__formula__":
        from .formula import check_tree
        check_tree(body)
        return Formula(body)
    if tag in ("__list__", "__tuple__"):
        if not isinstance(body, list):
            raise CodecError("malformed sequence")
        items = [decode(v, tensors=tensors, _depth=_depth + 1) for v in body]
        return items if tag == "__list__" else tuple(items)
    if tag == "__dict__":
        if not isinstance(body, dict):
            raise CodecError("malformed dictionary")
        return {str(k): decode(v, tensors=tensors, _depth=_depth + 1) for k, v in body.items()}
    raise CodecError(f"unknown tag {tag!r}")


def _decode_array(body: Any) -> np.ndarray:
    if not isinstance(body, dict) or set(body) != {"dtype", "shape", "data"}:
        raise CodecError("malformed array")
    dtype, shape, data = body["dtype"], body["shape"], body["data"]
    if dtype not in ARRAY_DTYPES:
        raise CodecError(f"array dtype {dtype!r} is not allowed")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise CodecError("malformed array shape")
    count = math.prod(shape)
    if count > MAX_ITEMS:
        raise CodecError("array is too large")
    if not isinstance(data, str):
        raise CodecError("malformed array data")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    dt = np.dtype(dtype).newbyteorder("<")
    if len(raw) != count * dt.itemsize:
        raise CodecError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).astype(np.dtype(dtype), copy=True)


class Tensor:
    """A decoded torch tensor, held as a numpy array, so the grader needs no torch."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        self.array = array

    def __repr__(self) -> str:
        return f"tensor(shape={tuple(self.array.shape)}, dtype={self.array.dtype})"


class Formula:
    """A decoded formula tree; see :mod:`autograder.formula`."""

    __slots__ = ("tree",)

    def __init__(self, tree: Any):
        self.tree = tree

    def __repr__(self) -> str:
        from .formula import tree_to_text
        return tree_to_text(self.tree)
