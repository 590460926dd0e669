"""How a solution notebook declares an autograded exercise.

An exercise is three nbgrader cells: the statement (markdown), the answer cell
(``solution``) and the test cell (``grade``, with points). The test cell starts
with plain ``assert`` lines that students run for instant feedback, and ends
with a hidden block that declares the exercise::

    ### BEGIN HIDDEN TESTS
    from autograder.authoring import Function
    Function("clip_by_norm",
             cases=[dict(g=np.array([3.0, 4.0]), max_norm=1.0)],
             random_cases=lambda rng: dict(g=rng.normal(size=5), max_norm=rng.uniform(0.1, 3)),
             n_random=10, rtol=1e-6).check(globals())
    ### END HIDDEN TESTS

nbgrader removes the hidden block from the student notebook, so students (in
JupyterLab or Colab, without this package) see only the visible asserts.

``check`` behaves according to where it runs:

* **record** (inside the course's ``solutions/`` folder, as in the book
  build and ``make test``, or with ``AUTOGRADER_RECORD`` set, as by
  ``python -m autograder keys``): the namespace holds the reference solution.
  Its outputs on every case are computed (random cases drawn from
  ``AUTOGRADER_SEED``, the instructor's secret seed when building a key) and
  judged against themselves, which proves the declaration works: the cases
  build, the outputs encode, the tolerances hold. With ``AUTOGRADER_RECORD``
  the entry is also appended to that file, the raw material of the key.
* **compare** (anywhere else, e.g. under plain ``nbgrader autograde``): the
  namespace holds a student's answer, judged against the stored answer key.

``python -m autograder grade`` never runs this cell in the student's process:
it reads the answer key, sends only the inputs into the sandbox, and judges
the returned plain data in its own process with :func:`judge`.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import codec, course
from .compare import Tolerance, compare

SELF_CHECK_SEED = 0
# How a kernel learns what its declarations are for: whoever starts it (the book build, the key
# builder, the portability run) sets these, through recording_environment().
RECORD_VARIABLE = "AUTOGRADER_RECORD"   # a file the key entries are appended to; "" records nothing
SEED_VARIABLE = "AUTOGRADER_SEED"       # the seed of the random cases (the instructor's, for a key)
# How a test cell's hidden block declares an exercise: Function("name", ...), Value("name", ...), ...
DECLARATION = re.compile(r"\b(?:Function|Value|Formula|Choice)\(\s*[\"'](\w+)[\"']")


class Exercise:
    """Common behaviour of every kind of exercise."""

    kind = ""

    def __init__(self, name: str):
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a Python name")
        self.name = name

    # -- what the grader asks the student's code for, and how it judges the reply
    def record(self, namespace: Mapping[str, Any], seed: int) -> dict:
        """The answer-key entry: the cases and the reference solution's outputs."""
        raise NotImplementedError

    def check(self, namespace: Mapping[str, Any]) -> None:
        """Judge ``namespace[self.name]``; raise AssertionError naming what is wrong."""
        if current_mode() == "compare":
            entry = stored_entry(self.name)
        else:  # the namespace holds the reference: record it, then judge it against itself
            entry = self.record(namespace, int(os.environ.get(SEED_VARIABLE, SELF_CHECK_SEED)))
            if os.environ.get(RECORD_VARIABLE):
                with open(os.environ[RECORD_VARIABLE], "a", encoding="utf-8") as out:
                    out.write(json.dumps(entry) + "\n")
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


# ----------------------------------------------------------------- shared by kernel and grader

def request_for(entry: dict) -> dict:
    """What the student's code is asked for: inputs only, never expected outputs."""
    request = {"name": entry["name"], "kind": entry["kind"]}
    if entry["kind"] == "function":
        request["cases"] = [{"args": c["args"], "kwargs": c["kwargs"]} for c in entry["cases"]]
    return request


def answer(namespace: Mapping[str, Any], request: dict) -> list[dict]:
    """Evaluate a request in the student's namespace; one reply per case.

    Runs in the student's process (the sandbox, or a plain nbgrader kernel).
    Each reply is ``{"ok": True, "value": <plain data>}`` or
    ``{"ok": False, "error": "<what went wrong>"}``.
    """
    name = request["name"]
    if name not in namespace:
        return [{"ok": False, "error": f"{name} is not defined"}]
    target = namespace[name]
    if request["kind"] != "function":
        return [_reply(lambda: target)]
    if not callable(target):
        return [{"ok": False, "error": f"{name} is not a function"}]
    replies = []
    for case in request["cases"]:
        args = codec.decode(case["args"], tensors=True)
        kwargs = codec.decode(case["kwargs"], tensors=True)
        replies.append(_reply(lambda: target(*args, **kwargs)))
    return replies


def _reply(produce: Callable[[], Any]) -> dict:
    try:
        return {"ok": True, "value": codec.encode(produce())}
    except NotImplementedError as error:  # the release's stub, still in place
        return {"ok": False, "error": str(error) or "not answered yet (the answer cell still raises NotImplementedError)"}
    except Exception as error:  # the student's code, or an answer that cannot be sent
        return {"ok": False, "raised": True, "error": f"{type(error).__name__}: {error}"[:500]}


def judge(entry: dict, replies: list[dict]) -> list[str]:
    """Compare the replies with the answer key; runs on plain data only.

    A function's failures are summarised in one line: how many cases failed,
    of which origin, and the first two distinct reasons.
    """
    cases = entry["cases"]
    if len(replies) == 1 and not replies[0].get("ok") and len(cases) > 1:
        return [f"{entry['name']}: {replies[0].get('error', 'no answer')}"]
    if len(replies) != len(cases):
        return [f"{entry['name']}: expected {len(cases)} answers, got {len(replies)}"]
    failed: dict[int, list[str]] = {}
    for index, (case, reply) in enumerate(zip(cases, replies)):
        problems = _judge_case(entry, case, reply)
        if problems:
            failed[index] = problems
    if not failed:
        return []
    if entry["kind"] != "function":
        return [f"{entry['name']}: {problem}" for problem in failed[0]]
    origins = [cases[i].get("origin", "fixed") for i in failed]
    counts = ", ".join(f"{origins.count(o)} {o}" for o in ("fixed", "random") if o in origins)
    reasons = list(dict.fromkeys(f"{_call(entry['name'], cases[i])}: {p[0]}" for i, p in failed.items()))[:2]
    return [f"{entry['name']} fails {len(failed)} of {len(cases)} cases ({counts}); " + "; ".join(reasons)]


def _call(name: str, case: dict) -> str:
    """The case as the call the student can repeat: ``clip_by_norm([3, 4], 1.0)``."""
    from .compare import plain

    try:
        args = codec.decode(case["args"])
        kwargs = codec.decode(case["kwargs"])
    except codec.CodecError:
        return name
    shown = [plain(a, 40) for a in args] + [f"{k}={plain(v, 40)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def _judge_case(entry: dict, case: dict, reply: dict) -> list[str]:
    from . import formula

    if not isinstance(reply, dict) or not reply.get("ok"):
        return [reply.get("error", "no answer") if isinstance(reply, dict) else "malformed reply"]
    try:
        value = codec.decode(reply.get("value"))
    except codec.CodecError as error:
        return [f"the answer could not be read ({error})"]
    kind = entry["kind"]
    if kind == "formula":
        return _judge_formula(entry, case, value, formula)
    if kind == "choice":
        if value not in entry["options"]:
            return [f"{value!r} is not one of the options {entry['options']}"]
        return [] if value == case["expected"] else [f"{value!r} is not the right choice"]
    return compare(codec.decode(case["expected"]), value, Tolerance(**entry["tolerance"]), "the answer")


def _judge_formula(entry, case, value, formula) -> list[str]:
    if not isinstance(value, codec.Formula):
        return [f"expected a SymPy expression, got {type(value).__name__}"]
    try:
        same, why = formula.equivalent(value.tree, codec.decode(case["expected"]).tree,
                                       entry["domains"], seed=entry.get("seed", 0))
    except formula.FormulaError as error:
        return [str(error)]
    return [] if same else [f"not equivalent to the expected formula: {why}"]


def _split(case: Any) -> tuple[tuple, dict]:
    if isinstance(case, dict):
        return (), dict(case)
    if isinstance(case, tuple):
        return case, {}
    raise TypeError("a case is a dict of keyword arguments or a tuple of positional arguments")


# ----------------------------------------------------------------- where we run

def recording_environment(records: str | os.PathLike | None, seed: int | None = None) -> dict[str, str]:
    """The environment variables of a kernel whose declarations append their key entries to
    ``records`` (None: record nothing, and judge against the stored key unless run in solutions/),
    drawing random cases from ``seed`` (None: leave the seed as it is)."""
    environment = {RECORD_VARIABLE: "" if records is None else str(records)}
    if seed is not None:
        environment[SEED_VARIABLE] = str(seed)
    return environment


def current_mode() -> str:
    """"record" for a reference (recording a key, or inside the course's solutions/), else "compare"."""
    if os.environ.get(RECORD_VARIABLE):
        return "record"
    root = course.find_root()
    if root is not None and (root / course.SOURCE_DIR) in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        return "record"
    return "compare"


def stored_entry(name: str) -> dict:
    """The answer-key entry for ``name`` of the assignment being graded (cwd's name)."""
    root = course.find_root()
    assignment = Path.cwd().name
    path = course.key_path(root, assignment) if root else None
    if path is None or not path.exists():
        raise AssertionError(f"no answer key for {assignment!r}: run `python -m autograder keys {assignment}` "
                             "in the course folder before grading")
    for notebook in json.loads(path.read_text(encoding="utf-8"))["notebooks"].values():
        for entry in notebook["exercises"]:
            if entry["name"] == name:
                return entry
    raise AssertionError(f"the answer key of {assignment!r} has no exercise {name!r}")
