"""The visible asserts and the grader give the same verdict on the same answer.

Students run the visible asserts in Colab without the grader; a pass there followed by a zero
from the grader, or a failure there for an answer that would score, misleads them. For every
Value and Function exercise of every chapter, the reference answer is changed the ways a student's
answer plausibly differs (numpy scalars for Python numbers and back, float arrays computed in
float32, a list or a tensor where an array is asked for, a wrong value), and each variant is run
through the chapter's visible asserts and through the grader's judge with the recorded key entry.

One kernel runs every chapter, each in a fresh namespace, so the imports are paid once; of each
chapter it runs only the cells the exercises need (autograder/pruning.py). A value exercise's
answer is taken from the key rather than recomputed, which skips the training runs behind it.
"""

from __future__ import annotations

import ast
import inspect
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import kinds, pruning
from bookbuild import cells, execute

from conftest import CHAPTERS, JOBS

RESULT_MARK = "VISIBLE-AGREES-WITH-GRADER "
# A value's visible asserts check its type and range: the exact number would give the answer away,
# so only the grader is required to refuse a wrong value.
VISIBLE_MAY_ACCEPT_WRONG = {"value"}


# --- run in the kernel: the variants of an answer, and the probe of one exercise -------------------

def _each_leaf(value, change):
    """``value`` with ``change`` applied to every number, array and tensor inside lists, tuples, dicts."""
    if isinstance(value, (list, tuple)):
        return type(value)(_each_leaf(v, change) for v in value)
    if isinstance(value, dict):
        return {k: _each_leaf(v, change) for k, v in value.items()}
    return change(value)


def numpy_scalars(value):
    """Python numbers as numpy scalars and numpy scalars as Python numbers."""
    def swap(x):
        if isinstance(x, (bool, np.bool_)):
            return x
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, int):
            return np.int64(x)
        return np.float64(x) if isinstance(x, float) else x
    return _each_leaf(value, swap)


def float32_round_trip(value):
    """Float arrays and tensors computed in float32, then cast back."""
    def round_trip(x):
        if isinstance(x, np.ndarray) and x.dtype == np.float64:
            return x.astype(np.float32).astype(np.float64)
        if isinstance(x, torch.Tensor) and x.dtype == torch.float64:
            return x.float().double()
        return x
    return _each_leaf(value, round_trip)


def as_list(value):
    """Arrays handed back as (nested) lists."""
    return _each_leaf(value, lambda x: x.tolist() if isinstance(x, np.ndarray) and x.ndim else x)


def as_tensor(value):
    """Arrays handed back as torch tensors."""
    return _each_leaf(value, lambda x: torch.from_numpy(x.copy()) if isinstance(x, np.ndarray) else x)


def wrong(value):
    """Every number off by at least 1 (integers stay integers)."""
    def shift(x):
        if isinstance(x, (bool, np.bool_, str)) or x is None:
            return x
        if isinstance(x, torch.Tensor):
            return x if x.dtype == torch.bool else x + 1 + x.abs() // 10
        if isinstance(x, (int, float, np.number, np.ndarray)):
            x_array = np.asarray(x)
            if x_array.dtype.kind not in "iuf":
                return x
            shifted = x + 1 + abs(x) // 10
            return type(x)(shifted) if isinstance(x, (int, float)) else shifted
        return x
    return _each_leaf(value, shift)


def unchanged(value):
    """The reference itself: both sides must accept it, or the probe is broken."""
    return value


VARIANTS = {"reference": unchanged, "numpy scalars": numpy_scalars, "float32 round trip": float32_round_trip,
            "list for array": as_list, "tensor for array": as_tensor, "wrong": wrong}


def probe(namespace, name, kind, visible, request):
    """Each applicable variant of ``namespace[name]``: the visible asserts' error (None for a pass)
    and the replies the grader would receive. A variant that changes no reply is left out."""
    reference = namespace[name]
    found = {}
    for variant, change in VARIANTS.items():
        if kind == "function":
            def candidate(*args, _change=change, **kwargs):
                return _change(reference(*args, **kwargs))
        else:
            candidate = change(reference)
        replies = kinds.answer({name: candidate}, request)
        if variant != "reference" and replies == found["reference"]["replies"]:
            continue
        namespace[name] = candidate
        try:
            exec(compile(visible, f"<{name} visible test>", "exec"), namespace)
            verdict = None
        except Exception as error:
            verdict = f"{type(error).__name__}: {error}"[:300]
        finally:
            namespace[name] = reference
        found[variant] = {"visible": verdict, "replies": replies}
    return found


def run_chapters(plan_path):
    """Run every planned chapter in a fresh namespace; print the probes' findings as one JSON line."""
    from IPython.core.inputtransformer2 import TransformerManager

    findings = {}
    for chapter_id, folder, steps in json.loads(Path(plan_path).read_text()):
        os.chdir(folder)
        namespace = {"__name__": "__main__"}
        findings[chapter_id] = {}
        try:
            for step in steps:
                if step["kind"] == "code":
                    exec(compile(TransformerManager().transform_cell(step["source"]), "<cell>", "exec"), namespace)
                    continue
                if step["kind"] == "answered":
                    for name, value in step["values"].items():
                        namespace[name] = _as_answered(codec.decode(value, tensors=True))
                    continue
                findings[chapter_id][step["name"]] = probe(namespace, step["name"], step["kind"],
                                                           step["visible"], step["request"])
        except Exception as error:
            findings[chapter_id]["__error__"] = f"{type(error).__name__}: {error}"
    print(RESULT_MARK + json.dumps(findings))


def _as_answered(value):
    """A decoded value as the notebook held it: a numpy scalar comes back from the key as a 0-d array."""
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


KERNEL_CODE = "\n".join(
    ["import json, os", "from pathlib import Path", "import numpy as np", "import torch",
     "from autograder import codec, kinds", f"RESULT_MARK = {RESULT_MARK!r}"]
    + [inspect.getsource(f) for f in (_each_leaf, *VARIANTS.values(), probe, run_chapters, _as_answered)]
    + ["VARIANTS = {" + ", ".join(f"{name!r}: {f.__name__}" for name, f in VARIANTS.items()) + "}"])


# --- run here: what each chapter must run, and the verdicts compared --------------------------------

def key_entries(chapter) -> dict[str, dict]:
    return {e["name"]: e for e in map(json.loads, execute.key_records(chapter).read_text().splitlines())}


def plan(chapter) -> list[dict]:
    """The steps of one chapter: the cells its exercises need, in order, with a probe in place of
    each test cell of a Value or Function exercise, and a value's answer cell left out."""
    entries = key_entries(chapter)
    code = [c for c in nbformat.read(chapter.source, as_version=4).cells if c.cell_type == "code"]
    values = {n for n, e in entries.items() if e["kind"] == "value"}
    sources = [cells.without_hidden_tests(c).source for c in code]
    answered = {i: pruning.names(s).binds & values for i, s in enumerate(sources) if cells.is_answer(code[i])}
    roles = [{"role": "student" if cells.is_answer(c) or cells.is_test(c) else "master",
              "source": "" if answered.get(i) else s} for i, (c, s) in enumerate(zip(code, sources))]
    steps = []
    for index in pruning.needed(roles, []):
        cell = code[index]
        if answered.get(index):  # the key's value in place of the computation behind it
            steps.append({"kind": "answered", "values": {n: entries[n]["cases"][0]["expected"]
                                                         for n in answered[index]}})
            continue
        probed = [entries[n] for n in cells.course_markers().declarations(cell.source)
                  if entries[n]["kind"] in ("value", "function")] if cells.is_test(cell) else []
        if not probed:
            steps.append({"kind": "code", "source": sources[index]})
        for entry in probed:
            steps.append({"kind": entry["kind"], "name": entry["name"], "visible": sources[index],
                          "request": kinds.request_for(entry)})
    return steps


@pytest.fixture(scope="session")
def findings(executed):
    """What the visible asserts and the replies make of every variant, by chapter and exercise."""
    shares = [CHAPTERS[i::JOBS] for i in range(JOBS)]
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        found = pool.map(probe_chapters, shares, [execute.KERNEL_THREADS] * JOBS)
        return {chapter_id: seen for share in found for chapter_id, seen in share.items()}


def probe_chapters(chapters, threads: int) -> dict:
    """Run the plans of ``chapters`` in one kernel; what the probes found, by chapter."""
    if not chapters:
        return {}
    with tempfile.TemporaryDirectory() as scratch:
        plan_path = Path(scratch) / "plan.json"
        plan_path.write_text(json.dumps([(c.id, str(c.source.parent), plan(c)) for c in chapters]))
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CODE),
                                             nbformat.v4.new_code_cell(f"run_chapters({str(plan_path)!r})")])
        execute.run_notebook(nb, Path(scratch), threads)
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    line = next(line for line in printed.splitlines() if line.startswith(RESULT_MARK))
    return json.loads(line[len(RESULT_MARK):])


def disagreements(entry: dict, variants: dict) -> list[str]:
    """Where the visible asserts and the grader part ways on one exercise's variants."""
    found = []
    for variant, seen in variants.items():
        graded = not kinds.judge(entry, seen["replies"])
        visible = seen["visible"] is None
        if variant == "reference":
            if not (graded and visible):
                found.append(f"{entry['name']}: the reference fails here (the probe is broken): "
                             f"{seen['visible'] or kinds.judge(entry, seen['replies'])}")
        elif variant == "wrong":
            if graded:
                found.append(f"{entry['name']}: the grader accepts a wrong answer")
            if visible and entry["kind"] not in VISIBLE_MAY_ACCEPT_WRONG:
                found.append(f"{entry['name']}: the visible asserts accept a wrong answer")
        elif graded != visible:
            why = seen["visible"] if not visible else kinds.judge(entry, seen["replies"])[0]
            side = "visible asserts refuse" if not visible else "grader refuses"
            found.append(f"{entry['name']} [{variant}]: the {side}: {why}")
    return found


def test_visible_asserts_and_grader_agree_on_every_variant(findings, chapter):
    seen = findings[chapter.id]
    assert "__error__" not in seen, f"{chapter.id}: the exercise cells did not run: {seen.get('__error__')}"
    entries = key_entries(chapter)
    probed = [n for n, e in entries.items() if e["kind"] in ("value", "function")]
    assert sorted(seen) == sorted(probed), f"{chapter.id}: probed {sorted(seen)}, declared {sorted(probed)}"
    found = [problem for name in probed for problem in disagreements(entries[name], seen[name])]
    assert not found, f"{chapter.id}:\n" + "\n".join(found)


# --- every visible failure says what was expected and what came back (nothing is executed) -------

def bare_asserts(source: str) -> list[str]:
    """The visible asserts of a test cell that fail with an empty AssertionError."""
    visible = source.split("### BEGIN HIDDEN TESTS")[0]
    return [ast.get_source_segment(visible, node).splitlines()[0]
            for node in ast.walk(ast.parse(visible)) if isinstance(node, ast.Assert) and node.msg is None]


def test_bare_asserts_are_found():
    cell = 'assert f(2) == 4, f"expected 4, got {f(2)!r}"\nassert g(1) == 0\n### BEGIN HIDDEN TESTS\nassert h\n'
    assert bare_asserts(cell) == ["assert g(1) == 0"]


def test_every_visible_assert_says_what_failed(chapter):
    nb = nbformat.read(chapter.source, as_version=4)
    found = {c.metadata.nbgrader.grade_id: bare_asserts(c.source) for c in nb.cells if cells.is_test(c)}
    found = {grade_id: asserts for grade_id, asserts in found.items() if asserts}
    assert not found, f"{chapter.id}: asserts without a message (say what was expected and what came back): {found}"
