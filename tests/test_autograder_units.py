"""The grader's building blocks, one at a time: plain-data codec, comparison, formulas, pruning, integrity."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
import sympy as sp
import torch

from autograder import authoring, codec, course, formula, integrity, keys, kinds, markers, mode, pruning
from autograder.__main__ import main as autograder_main
from autograder.compare import Tolerance, compare
from bookbuild import layout


# --------------------------------------------------------------------------- codec

@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, float("nan"), float("inf"), "text",
    [1, 2.0, [3]], (1, "a"), {"a": [1, 2], "b": {"c": None}},
    np.arange(6, dtype=np.int32).reshape(2, 3), np.float32(1.5), np.array([True, False]),
])
def test_codec_round_trips_plain_values(value):
    back = codec.decode(json.loads(json.dumps(codec.encode(value))))
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray) and back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value and type(back) is type(value)


def test_codec_keeps_tensors_apart_from_arrays():
    t = torch.arange(4.0, dtype=torch.float64).reshape(2, 2)
    data = json.loads(json.dumps(codec.encode(t)))
    marker = codec.decode(data)
    assert isinstance(marker, codec.Tensor) and np.array_equal(marker.array, t.numpy())
    assert torch.equal(codec.decode(data, tensors=True), t)


def test_codec_refuses_objects_and_malformed_data():
    class Sneaky:
        def __eq__(self, other):
            return True
    with pytest.raises(codec.CodecError):
        codec.encode(Sneaky())
    for bad in ([1, 2], {"__pickle__": "x"}, {"__ndarray__": {"dtype": "object", "shape": [1], "data": ""}},
                {"__ndarray__": {"dtype": "float64", "shape": [10], "data": "AAAA"}},
                {"__ndarray__": {"dtype": "float64", "shape": [10**9, 10**9], "data": ""}}):
        with pytest.raises(codec.CodecError):
            codec.decode(bad)


# --------------------------------------------------------------------------- compare

def test_compare_accepts_within_tolerance_and_names_the_difference():
    tol = Tolerance(rtol=1e-6, atol=0)
    assert compare(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), tol) == []
    problems = compare(np.array([1.0, 2.0]), np.array([1.0, 2.1]), tol)
    assert len(problems) == 1 and "1 of 2 values differ at index (1,)" in problems[0]


def test_compare_checks_type_shape_and_kind():
    tol = Tolerance()
    assert "shape" in compare(np.zeros(3), np.zeros(4), tol)[0]
    assert "integer values" in compare(np.zeros(3), np.zeros(3, dtype=np.int64), tol)[0]
    assert "torch.Tensor" in compare(codec.Tensor(np.zeros(2)), np.zeros(2), tol)[0]
    assert "whole number" in compare(3840, 3840.5, Tolerance(rtol=0, atol=1))[0]
    # dtype="kind" holds for numbers as for arrays: a float is not a count, an int is not a float,
    # but numpy scalars are numbers of their kind (np.int64 is an integer)
    assert "whole number 3600, got float 3600.0" in compare(3600, 3600.0, Tolerance(rtol=0, atol=0))[0]
    assert "expected a float, got int 2" in compare(2.0, 2, tol)[0]
    assert compare(3600, np.int64(3600), Tolerance(rtol=0, atol=0)) == []
    assert compare(0.5, np.float64(0.5), tol) == []
    assert compare(3600, 3600.0, Tolerance(rtol=0, atol=0, dtype="any")) == []
    assert "expected a tuple" in compare((1, 2), [1, 2], tol)[0]
    assert "keys" in compare({"a": 1}, {"b": 1}, tol)[0]


# --------------------------------------------------------------------------- formulas

F, C = sp.symbols("f c", real=True)


def tree(expr):
    return formula.to_tree(expr)


def test_equivalent_formulas_in_different_forms_pass():
    same, why = formula.equivalent(tree(F * (1 - sp.tanh(C) ** 2)), tree(F / sp.cosh(C) ** 2),
                                   {"f": (0, 1), "c": (-2, 2)})
    assert same, why


def test_different_formulas_fail_with_a_counterexample():
    same, why = formula.equivalent(tree(F * sp.tanh(C)), tree(F / sp.cosh(C) ** 2), {"f": (0, 1), "c": (-2, 2)})
    assert not same and "should be" in why


def test_formula_trees_are_checked_against_the_allow_list():
    with pytest.raises(formula.FormulaError):
        formula.check_tree(["Symbol", "__import__('os')"])
    with pytest.raises(formula.FormulaError):
        formula.check_tree(["Eval", ["Symbol", "x"]])
    with pytest.raises(formula.FormulaError):
        formula.check_tree(["Symbol", "z"], symbols={"x"})
    with pytest.raises(formula.FormulaError):
        formula.to_tree(sp.Integral(F, C))
    deep = ["Symbol", "x"]
    for _ in range(100):
        deep = ["exp", deep]
    with pytest.raises(formula.FormulaError):
        formula.check_tree(deep)


def test_symbolic_check_gives_up_in_time_on_a_hostile_formula():
    huge = ["Pow", ["Integer", "999999999"], ["Pow", ["Integer", "999999999"], ["Integer", "999999999"]]]
    assert formula.symbolically_equal(huge, ["Integer", "1"], seconds=2) is None


# --------------------------------------------------------------------------- authoring

def test_function_exercise_records_cases_and_judges_answers():
    def reference(x):
        return 2 * x
    exercise = authoring.Function("double", cases=[(np.array([1.0, 2.0]),)],
                                  random_cases=lambda rng: (rng.normal(size=3),), n_random=4, rtol=1e-9)
    entry = exercise.record({"double": reference}, seed=7)
    assert len(entry["cases"]) == 5
    request = kinds.request_for(entry)
    assert all("expected" not in case for case in request["cases"])  # the sandbox never sees answers
    assert kinds.judge(entry, kinds.answer({"double": reference}, request)) == []
    wrong = kinds.judge(entry, kinds.answer({"double": lambda x: x}, request))
    assert wrong and "fails 5 of 5 cases" in wrong[0]


def test_reasons_show_the_call_and_plain_values():
    """A student can repeat the failing call; numbers read as numbers, not np.float64(...)."""
    exercise = authoring.Function("halve", cases=[(np.array([3.0, 4.0]), 2.0)], rtol=1e-9)
    entry = exercise.record({"halve": lambda x, k: x / k}, seed=0)
    request = kinds.request_for(entry)
    [reason] = kinds.judge(entry, kinds.answer({"halve": lambda x, k: x * k}, request))
    assert "halve([3., 4.], 2.0)" in reason and "expected 1.5, got 6.0" in reason and "np.float64" not in reason


def test_an_untouched_stub_reads_as_not_answered():
    exercise = authoring.Function("halve", cases=[(1.0, 2.0)], rtol=1e-9)
    entry = exercise.record({"halve": lambda x, k: x / k}, seed=0)

    def stub(x, k):
        raise NotImplementedError()
    [reason] = kinds.judge(entry, kinds.answer({"halve": stub}, kinds.request_for(entry)))
    assert "not answered yet" in reason


def test_random_cases_depend_on_the_seed_only():
    exercise = authoring.Function("f", cases=[(1.0,)], random_cases=lambda rng: (float(rng.normal()),), n_random=2)
    a, b, c = (exercise.record({"f": lambda x: x}, seed=s)["cases"] for s in (1, 1, 2))
    assert a == b and a != c


def test_value_choice_and_formula_exercises():
    value = authoring.Value("n", rtol=0, atol=0).record({"n": 3840}, seed=0)
    assert kinds.judge(value, [{"ok": True, "value": 3840}]) == []
    assert kinds.judge(value, [{"ok": True, "value": 3960}])
    choice = authoring.Choice("pick", ["a", "b"]).record({"pick": "b"}, seed=0)
    assert kinds.judge(choice, [{"ok": True, "value": "b"}]) == []
    assert "not one of the options" in kinds.judge(choice, [{"ok": True, "value": "z"}])[0]
    derivation = authoring.Formula("d", {"f": (0, 1), "c": (-1, 1)}).record({"d": F * C}, seed=0)
    assert kinds.judge(derivation, kinds.answer({"d": C * F}, {"name": "d", "kind": "formula"})) == []
    assert kinds.judge(derivation, kinds.answer({"d": F + C}, {"name": "d", "kind": "formula"}))


def test_declarations_are_found_in_hidden_blocks_only():
    source = 'assert Value("visible")\n### BEGIN HIDDEN TESTS\nFunction("f", cases=[1]).check(globals())\n' \
             "Value('g').check(globals())\n### END HIDDEN TESTS\n"
    assert markers.of_course(layout.ROOT).declarations(source) == ["f", "g"]


def test_a_course_that_renames_nbgrader_delimiters_is_read_with_its_own(tmp_path):
    """nbgrader_config.py may rename the delimiters; the keys, the book and the bench then use the
    course's words, as nbgrader's release does, instead of the defaults written into the code."""
    (tmp_path / course.CONFIG_FILE).write_text(
        'c = get_config()\nc.ClearSolutions.begin_solution_delimeter = "START ANSWER"\n'
        'c.ClearSolutions.end_solution_delimeter = "STOP ANSWER"\n'
        'c.ClearHiddenTests.begin_test_delimeter = "START SECRET"\nc.ClearHiddenTests.end_test_delimeter = "STOP SECRET"\n')
    marks = markers.of_course(tmp_path)
    test = 'assert f(1) == 2\n# START SECRET\nFunction("f", cases=[(1,)]).check(globals())\n# STOP SECRET'
    assert marks.declarations(test) == ["f"] and marks.visible_tests(test) == "assert f(1) == 2"
    answer = "def f(x):\n    # START ANSWER\n    return 2 * x\n    # STOP ANSWER"
    assert marks.has_solution_region(answer) and marks.without_solution_markers(answer) == "def f(x):\n    return 2 * x"
    assert markers.of_course(layout.ROOT).declarations(test) == [], "the book's course keeps nbgrader's defaults"


# --------------------------------------------------------------------------- pruning

def test_pruning_keeps_what_answers_need_and_drops_demonstrations():
    cells = [
        {"role": "master", "source": "import numpy as np\nSEED = 0"},
        {"role": "master", "source": "W = np.eye(2)\nscale = 3"},
        {"role": "master", "source": "import matplotlib.pyplot as plt\nfig = plt.figure()\nplt.plot([1])"},
        {"role": "master", "source": "W[0, 0] = 5"},
        {"role": "student", "source": "def f(x):\n    local = x * scale\n    return W @ local"},
        {"role": "master", "source": "model = np.zeros(1000)\nnp.testing.assert_allclose(model, 0)"},
    ]
    assert pruning.needed(cells, ["f"]) == [0, 1, 3, 4]


def test_pruning_ignores_function_locals_and_module_calls():
    found = pruning.names("def g(h):\n    c = h + H\n    return c\nnp.random.seed(0)\nresult = g(2)")
    assert found.reads >= {"H", "np"} and "h" not in found.reads and "c" not in found.reads
    assert found.binds == {"g", "result"} and found.changes == {"np"}


# --------------------------------------------------------------------------- integrity

def _master():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError()", metadata={"nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": "f-answer", "schema_version": 3, "task": False}})
    test = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "f-tests",
        "schema_version": 3, "task": False}})
    nb.cells = [nbformat.v4.new_code_cell("import math"), answer, test]
    return nb


def test_rebuild_takes_only_answer_text_from_the_submission(tmp_path):
    submitted = _master()
    submitted.cells[0].source = "import os; os.system('rm -rf /')"      # a master cell: ignored
    submitted.cells[1].source = "def f():\n    return 1"
    submitted.cells[2].source = "pass"                                   # a test cell: restored
    path = tmp_path / "nb.ipynb"
    nbformat.write(submitted, path)
    rebuilt = integrity.rebuild(_master(), path)
    assert [(p.kind, p.cells) for p in rebuilt.problems] == [(integrity.EDITED_TEST, ())]  # reported, costs nothing
    assert "'f-tests': the test cell was edited" in rebuilt.problems[0].message
    assert [c.source for c in rebuilt.notebook.cells] == ["import math", "def f():\n    return 1", "assert f() == 1"]
    submitted.cells[2].source = "assert f() == 1"
    nbformat.write(submitted, path)
    assert integrity.rebuild(_master(), path).problems == []


@pytest.mark.parametrize("change, expected", [
    (lambda nb: nb.cells.pop(1), "missing from the submission"),
    (lambda nb: nb.cells.append(nb.cells[1]), "appears 2 times"),
    (lambda nb: nb.cells[2].metadata.nbgrader.update(points=200), "points: 2.0 -> 200.0"),
    (lambda nb: nb.cells[1].update(cell_type="raw"), "changed from a code cell"),
])
def test_rebuild_reports_tampering_and_names_the_cell(tmp_path, change, expected):
    submitted = _master()
    change(submitted)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(submitted))
    problems = integrity.rebuild(_master(), path).problems
    assert len(problems) == 1 and expected in problems[0].message and problems[0].cells == ("f-tests",)


def test_rebuild_refuses_unreadable_files(tmp_path):
    (tmp_path / "nb.ipynb").write_text("{not json")
    assert "not valid JSON" in integrity.rebuild(_master(), tmp_path / "nb.ipynb").problems[0].message
    (tmp_path / "nb.ipynb").write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    assert "nbformat 4" in integrity.rebuild(_master(), tmp_path / "nb.ipynb").problems[0].message
    (tmp_path / "nb.ipynb").write_bytes(b" " * 100)
    assert "limit" in integrity.rebuild(_master(), tmp_path / "nb.ipynb", max_bytes=10).problems[0].message
    (tmp_path / "nb.ipynb").unlink()
    (tmp_path / "nb (1).ipynb").write_text("{}")
    assert "renamed" in integrity.rebuild(_master(), tmp_path / "nb.ipynb").problems[0].message


def test_a_failure_of_the_grader_is_not_the_students_zero(monkeypatch):
    """An exception inside the judge (here: a reference type compare does not support) leaves the
    cell without a score, named as the grader's error, instead of recording a zero."""
    from autograder import grading, report

    entry = authoring.Function("halve", cases=[(1.0, 2.0)], rtol=1e-9).record({"halve": lambda x, k: x / k}, seed=0)
    monkeypatch.setattr(kinds, "compare", lambda *a, **k: (_ for _ in ()).throw(TypeError("cannot compare")))
    with pytest.raises(grading.GraderError, match="grader error while judging halve"):
        grading._judge(entry, {"replies": [{"ok": True, "value": 0.5}]}, "done")
    record = {"student": "s", "notebook": "n", "run": "done", "problems": [],
              "cells": [{"grade_id": "halve-tests", "max_score": 1, "score": None,
                         "reasons": ["grader error while judging halve (TypeError: cannot compare)"]}]}
    assert "grader error" in report.summary([record])


def _record(student, scores, reasons=(), late=0.0):
    cells = [{"grade_id": g, "score": s, "max_score": 2.0, "reasons": list(reasons) if s != 2.0 else []}
             for g, s in scores.items()]
    return {"student": student, "notebook": "nb", "cells": cells, "late_penalty": late, "run": "done",
            "problems": []}


def test_report_csv_has_one_sorted_row_per_student_for_a_gradebook_import():
    from autograder import report

    records = [_record("zoe", {"q1": 2.0, "q2": None}), _record("adam", {"q1": 1.0, "q2": 2.0}, late=1.0)]
    rows = report.as_csv(records).splitlines()
    assert rows == ["student,notebook,q1,q2,late_penalty,total,max_score",
                    "adam,nb,1,2,1,2,4", "zoe,nb,2,,0,2,4"]


def test_report_statistics_give_means_full_marks_and_common_mistakes():
    from autograder import report

    records = [_record("a", {"q1": 2.0}), _record("b", {"q1": 0.0}, ["f(3) returned 7.0, expected 9.0"]),
               _record("c", {"q1": 0.0}, ["f(4) returned 1.5, expected 16.0"]),
               _record("d", {"q1": None})]
    text = report.statistics(records)
    assert "q1" in text and "mean 0.67/2" in text and "full marks 33%" in text and "graded 3/4" in text
    assert "2 x f# returned #, expected #" in text, text


def test_report_changes_list_who_moved_by_how_much_and_why():
    from autograder import report

    before = [_record("a", {"q1": 2.0, "q2": 2.0}), _record("b", {"q1": 0.0, "q2": 2.0}, ["wrong"])]
    after = [_record("a", {"q1": 0.0, "q2": 2.0}, ["now wrong"]), _record("b", {"q1": 0.0, "q2": 2.0}, ["wrong"]),
             _record("c", {"q1": 2.0, "q2": 2.0})]
    assert report.changes(before, after) == ["a  nb  4 -> 2 (-2): q1 2 -> 0 (now wrong)"]


# --------------------------------------------------------------------------- keys

def _reference(folder, source):
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]),
                   folder / f"{folder.name}.ipynb")
    return folder / f"{folder.name}.ipynb"


def test_a_reference_that_hangs_is_named_with_the_time_it_was_given(tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "KEY_TIMEOUT", 3)
    with pytest.raises(keys.KeyBuildError, match="did not finish within 3 s"):
        keys.record(_reference(tmp_path / "hw", "while True:\n    pass"), seed=0)


def test_a_broken_reference_stops_the_grader_with_a_message_not_a_traceback(tmp_path, monkeypatch):
    (tmp_path / course.CONFIG_FILE).write_text("c = get_config()\n")
    _reference(tmp_path / course.SOURCE_DIR / "hw", "1 / 0")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        autograder_main(["keys", "hw"])
    assert str(stopped.value).startswith("cannot build the answer key of hw: ")
    assert "ZeroDivisionError" in str(stopped.value)


def test_decide_names_answers_that_raised_or_hung_but_not_stubs(tmp_path):
    """The summary's errors column reads NotebookResult.answer_errors."""
    from autograder import grading

    path = tmp_path / "nb.ipynb"
    nbformat.write(_master(), path)
    prepared = grading.prepare("s", "nb", _master(), path, [])
    student_cell = next(i for i, c in enumerate(prepared.job["cells"]) if c["role"] == "student")
    decide = lambda *records: grading.decide(prepared, "a", [], {"records": list(records), "status": "done"})
    stub = {"type": "cell", "index": student_cell, "status": "error", "error": "NotImplementedError: "}
    assert decide(stub).answer_errors == []
    hung = {**stub, "status": "timeout", "error": "did not finish within 30 s"}
    raised = {"type": "exercise", "name": "f", "replies": [{"ok": False, "raised": True, "error": "ZeroDivisionError"}]}
    assert decide(hung, raised).answer_errors == ["answer raised", "answer timed out"]


def test_a_missing_notebook_is_told_once(tmp_path):
    from autograder import grading

    (tmp_path / "renamed.ipynb").write_text("{}")
    result = grading.decide(grading.prepare("s", "nb", _master(), tmp_path / "nb.ipynb", []), "a", [], None)
    assert [p["kind"] for p in result.problems] == ["missing-notebook"] and "renamed" in result.problems[0]["message"]
    assert all(c.reasons == [grading.WHOLE_NOTEBOOK] for c in result.cells)


# --- The sandbox's limits and its reading of the result pipe ---------------------------------------------

def test_the_sandbox_tmp_holds_the_runs_disk_limit():
    """bubblewrap_command read the class default, so a run's own disk limit was ignored."""
    from autograder import sandbox

    command = sandbox.bubblewrap_command(sandbox.FIRST_UID, sandbox.Limits(disk_mb=7))
    size = command.index("--size")
    assert command[size + 1] == str(7 * 2**20) and command[size + 2:size + 4] == ["--tmpfs", "/tmp"]


def test_the_driver_s_last_record_is_seen_when_it_arrives_in_two_pieces():
    """The end of a run was spotted as a substring of one read, so a "done" record split between two
    reads went unseen and a finished run was taken for a crashed one."""
    import os
    import time

    from autograder import sandbox

    read_end, write_end = os.pipe()
    reader = sandbox._Reader(read_end, budget=1 << 20)
    reader.start()
    os.write(write_end, b'{"type": "cell", "index": 0}\n{"type": "do')
    time.sleep(0.2)  # the reader takes the first piece on its own
    assert not reader.saw_done
    os.write(write_end, b'ne"}\n')
    os.close(write_end)
    reader.join(timeout=10)
    assert reader.saw_done and [r["type"] for r in reader.records()] == ["cell", "done"]


def test_nbformat_starts_without_compiling_a_grammar():
    """Every nbgrader and grader command imports nbformat, which imports jsonschema's format checks.
    From jsonschema 4.25 those pull in rfc3987-syntax, whose Lark grammar is compiled on import
    (about 2 CPU seconds per command); requirements.txt pins jsonschema below it."""
    import subprocess
    import sys

    probe = "import sys, nbformat; print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]", f"nbformat's import loads {loaded.strip()}"


def test_the_kernel_environment_is_named_in_one_place():
    """Only mode.py spells the variables that tell a kernel to record a key; the book build, the
    key builder, the driver and the portability run ask it for them (recording_environment)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spelled = [path.relative_to(root).as_posix() for folder in ("autograder", "bookbuild")
               for path in (root / folder).glob("*.py")
               if any(f'"{name}"' in path.read_text(encoding="utf-8")
                      for name in (mode.RECORD_VARIABLE, mode.SEED_VARIABLE))]
    assert spelled == ["autograder/mode.py"]
    assert mode.recording_environment("k.jsonl", seed=0) == {"AUTOGRADER_RECORD": "k.jsonl", "AUTOGRADER_SEED": "0"}
    assert mode.recording_environment(None) == {"AUTOGRADER_RECORD": ""}
