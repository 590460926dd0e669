"""The kinds of autograded exercise, each one class that owns every rule of its kind.

A kind says four things, and each is said once, in its class:

* ``record`` (the book's kernel, the key builder): how the reference becomes an answer-key entry;
* ``request`` (the grader): what the student's code is asked for, inputs only, never an output;
* ``answer`` (the student's process: the sandbox, or a plain nbgrader kernel): how it replies, in
  plain data (``{"ok": True, "value": ...}`` or ``{"ok": False, "error": ...}``, see :func:`reply`);
* ``judge_case`` (the grader's own process, on plain data): how one reply compares with the key.

``KINDS`` registers the classes by the name an entry stores, and the pattern that finds a
declaration in a test cell (``DECLARATION``) is built from the same list, so a new kind is known to
the grader, the key builder and the release as soon as it is listed there. :func:`request_for`,
:func:`answer` and :func:`judge` are how the rest of the package reaches a kind from an entry.
"""

from __future__ import annotations

import re
import zlib
from typing import Any, Callable, Mapping

import numpy as np

from . import codec, mode
from .compare import Tolerance, compare, plain


class Exercise:
    """What every kind shares: a name, the self-check in the notebook, and judging case by case."""

    kind = ""

    def __init__(self, name: str):
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a Python name")
        self.name = name

    def record(self, namespace: Mapping[str, Any], seed: int) -> dict:
        """The answer-key entry: the cases and the reference solution's outputs."""
        raise NotImplementedError

    def check(self, namespace: Mapping[str, Any]) -> None:
        """Judge ``namespace[self.name]``; raise AssertionError naming what is wrong. A reference is
        recorded first and judged against itself (see autograder.mode)."""
        if mode.is_recording():
            entry = self.record(namespace, mode.seed())
            mode.keep(entry)
        else:
            entry = mode.stored_entry(self.name)
        problems = judge(entry, answer(namespace, request_for(entry)))
        if problems:
            shown = "\n".join(f"  - {p}" for p in problems[:5])
            more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
            raise AssertionError(f"{self.name}: {len(problems)} hidden check(s) failed:\n{shown}{more}")

    def _entry(self, tolerance: Tolerance | None = None, **fields) -> dict:
        entry = {"name": self.name, "kind": self.kind, **fields}
        if tolerance is not None:
            entry["tolerance"] = tolerance.as_dict()
        return entry

    # -- the rules on plain data, for the grader and the student's process
    @classmethod
    def request(cls, entry: dict) -> dict:
        return {"name": entry["name"], "kind": entry["kind"]}

    @classmethod
    def answer(cls, target: Any, request: dict) -> list[dict]:
        return [reply(lambda: target)]

    @classmethod
    def judge_case(cls, entry: dict, case: dict, value: Any) -> list[str]:
        return compare(codec.decode(case["expected"]), value, Tolerance(**entry["tolerance"]), "the answer")

    @classmethod
    def summary(cls, entry: dict, failed: dict[int, list[str]]) -> list[str]:
        """The reasons a student reads, from each failed case's problems (by case index)."""
        return [f"{entry['name']}: {problem}" for problem in next(iter(failed.values()))]


class Function(Exercise):
    """A function the student writes, called on fixed and random inputs.

    ``cases`` are dicts (keyword arguments) or tuples (positional arguments);
    put the inputs of the visible asserts first. ``random_cases(rng)`` builds
    one more case from a ``numpy.random.Generator``; ``n_random`` of them are
    drawn. Inputs may hold numbers, arrays, tensors and lists or dicts of them.
    """

    kind = "function"

    def __init__(self, name: str, cases: list, random_cases: Callable[[np.random.Generator], Any] | None = None,
                 n_random: int = 0, rtol: float = 1e-5, atol: float = 1e-8, dtype: str = "kind"):
        super().__init__(name)
        if not cases:
            raise ValueError("give at least one fixed case")
        if n_random and random_cases is None:
            raise ValueError("n_random needs random_cases")
        self.cases = list(cases)
        self.random_cases = random_cases
        self.n_random = n_random
        self.tolerance = Tolerance(rtol, atol, dtype)

    def record(self, namespace, seed):
        reference = namespace[self.name]
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])
        drawn = [("fixed", c) for c in self.cases]
        drawn += [("random", self.random_cases(rng)) for _ in range(self.n_random)]
        cases = []
        for origin, case in drawn:
            args, kwargs = _split(case)
            encoded_args, encoded_kwargs = codec.encode(args), codec.encode(kwargs)  # before a call could mutate them
            cases.append({"origin": origin, "args": encoded_args, "kwargs": encoded_kwargs,
                          "expected": codec.encode(reference(*args, **kwargs))})
        return self._entry(self.tolerance, cases=cases)

    @classmethod
    def request(cls, entry):
        return {**super().request(entry), "cases": [{"args": c["args"], "kwargs": c["kwargs"]} for c in entry["cases"]]}

    @classmethod
    def answer(cls, target, request):
        if not callable(target):
            return [{"ok": False, "error": f"{request['name']} is not a function"}]
        replies = []
        for case in request["cases"]:
            args = codec.decode(case["args"], tensors=True)
            kwargs = codec.decode(case["kwargs"], tensors=True)
            replies.append(reply(lambda: target(*args, **kwargs)))
        return replies

    @classmethod
    def summary(cls, entry, failed):
        """One line: how many cases failed, of which origin, and the first two distinct reasons."""
        cases = entry["cases"]
        origins = [cases[i].get("origin", "fixed") for i in failed]
        counts = ", ".join(f"{origins.count(o)} {o}" for o in ("fixed", "random") if o in origins)
        reasons = list(dict.fromkeys(f"{_call(entry['name'], cases[i])}: {p[0]}" for i, p in failed.items()))[:2]
        return [f"{entry['name']} fails {len(failed)} of {len(cases)} cases ({counts}); " + "; ".join(reasons)]


class Value(Exercise):
    """A value the student computes in the notebook (a number, an array, a table)."""

    kind = "value"

    def __init__(self, name: str, rtol: float = 1e-5, atol: float = 1e-8, dtype: str = "kind"):
        super().__init__(name)
        self.tolerance = Tolerance(rtol, atol, dtype)

    def record(self, namespace, seed):
        return self._entry(self.tolerance, cases=[{"expected": codec.encode(namespace[self.name])}])


class Formula(Exercise):
    """A derivation: the answer is a SymPy expression in the symbols the exercise provides.

    ``symbols`` maps each symbol name to the interval its random test values
    are drawn from (keep them inside the formula's domain, e.g. (0, 1) for a
    gate value, positive values under a logarithm).
    """

    kind = "formula"

    def __init__(self, name: str, symbols: Mapping[str, tuple[float, float]]):
        super().__init__(name)
        self.symbols = {k: (float(lo), float(hi)) for k, (lo, hi) in symbols.items()}

    def record(self, namespace, seed):
        return self._entry(domains=self.symbols, seed=seed,
                           cases=[{"expected": codec.encode(namespace[self.name])}])

    @classmethod
    def judge_case(cls, entry, case, value):
        from . import formula  # SymPy: only where a formula is judged

        if not isinstance(value, codec.Formula):
            return [f"expected a SymPy expression, got {type(value).__name__}"]
        try:
            same, why = formula.equivalent(value.tree, codec.decode(case["expected"]).tree,
                                           entry["domains"], seed=entry.get("seed", 0))
        except formula.FormulaError as error:
            return [str(error)]
        return [] if same else [f"not equivalent to the expected formula: {why}"]


class Choice(Exercise):
    """A conceptual question: the answer is one of ``options`` (short strings)."""

    kind = "choice"

    def __init__(self, name: str, options: list[str]):
        super().__init__(name)
        self.options = list(options)

    def record(self, namespace, seed):
        expected = namespace[self.name]
        if expected not in self.options:
            raise ValueError(f"the reference answer {expected!r} is not among the options")
        return self._entry(options=self.options, cases=[{"expected": expected}])

    @classmethod
    def judge_case(cls, entry, case, value):
        if value not in entry["options"]:
            return [f"{value!r} is not one of the options {entry['options']}"]
        return [] if value == case["expected"] else [f"{value!r} is not the right choice"]


KINDS: dict[str, type[Exercise]] = {cls.kind: cls for cls in (Function, Value, Formula, Choice)}
# How a test cell's hidden block declares an exercise: Function("name", ...), Value("name", ...), ...
DECLARATION = re.compile(rf"\b(?:{'|'.join(cls.__name__ for cls in KINDS.values())})\(\s*[\"'](\w+)[\"']")


# ----------------------------------------------------------------- reaching a kind from an entry

def request_for(entry: dict) -> dict:
    """What the student's code is asked for: inputs only, never expected outputs."""
    return KINDS[entry["kind"]].request(entry)


def answer(namespace: Mapping[str, Any], request: dict) -> list[dict]:
    """Evaluate a request in the student's namespace; one reply per case."""
    name = request["name"]
    if name not in namespace:
        return [{"ok": False, "error": f"{name} is not defined"}]
    return KINDS[request["kind"]].answer(namespace[name], request)


def judge(entry: dict, replies: list[dict]) -> list[str]:
    """Compare the replies with the answer key, in the grader's process; the reasons, or []."""
    kind, cases = KINDS[entry["kind"]], entry["cases"]
    if len(replies) == 1 and not replies[0].get("ok") and len(cases) > 1:
        return [f"{entry['name']}: {replies[0].get('error', 'no answer')}"]
    if len(replies) != len(cases):
        return [f"{entry['name']}: expected {len(cases)} answers, got {len(replies)}"]
    failed: dict[int, list[str]] = {}
    for index, (case, one_reply) in enumerate(zip(cases, replies)):
        value, problems = _read(one_reply)
        problems = problems or kind.judge_case(entry, case, value)
        if problems:
            failed[index] = problems
    return kind.summary(entry, failed) if failed else []


def reply(produce: Callable[[], Any]) -> dict:
    """The reply to one case, in the student's process: the encoded value, or what went wrong."""
    try:
        return {"ok": True, "value": codec.encode(produce())}
    except NotImplementedError as error:  # the release's stub, still in place
        return {"ok": False, "error": str(error) or "not answered yet (the answer cell still raises NotImplementedError)"}
    except Exception as error:  # the student's code, or an answer that cannot be sent
        return {"ok": False, "raised": True, "error": f"{type(error).__name__}: {error}"[:500]}


def _read(one_reply: Any) -> tuple[Any, list[str]]:
    """The decoded value of a reply, or the problems that stop it being judged."""
    if not isinstance(one_reply, dict):
        return None, ["malformed reply"]
    if not one_reply.get("ok"):
        return None, [one_reply.get("error", "no answer")]
    try:
        return codec.decode(one_reply.get("value")), []
    except codec.CodecError as error:
        return None, [f"the answer could not be read ({error})"]


def _call(name: str, case: dict) -> str:
    """The case as the call the student can repeat: ``clip_by_norm([3, 4], 1.0)``."""
    try:
        args = codec.decode(case["args"])
        kwargs = codec.decode(case["kwargs"])
    except codec.CodecError:
        return name
    shown = [plain(a, 40) for a in args] + [f"{k}={plain(v, 40)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def _split(case: Any) -> tuple[tuple, dict]:
    if isinstance(case, dict):
        return (), dict(case)
    if isinstance(case, tuple):
        return case, {}
    raise TypeError("a case is a dict of keyword arguments or a tuple of positional arguments")
