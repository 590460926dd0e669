"""The grading benchmark derives its submissions from the chapter, so it follows the chapter."""

from __future__ import annotations

import json

import nbformat

import grading_course as gc
from autograder import bench, course, markers
from bookbuild import execute, layout


def _kinds(records) -> dict[str, str]:
    return {json.loads(line)["name"]: json.loads(line)["kind"] for line in records.read_text().splitlines()}


def test_every_exercise_of_the_chapter_gets_each_kind_of_answer(executed, chapter):
    kinds = _kinds(execute.key_records(chapter))
    source = nbformat.read(chapter.source, as_version=4)
    cells = bench.answer_cells(source, kinds, markers.of_course(layout.ROOT))
    owned = [name for _, exercises in cells.values() for name, _ in exercises]
    assert sorted(owned) == sorted(kinds), "each exercise belongs to exactly one answer cell"
    release = nbformat.read(chapter.student, as_version=4)
    students = bench.submissions(source, release, kinds, markers.of_course(layout.ROOT), count=20)
    assert {kind for kind, _ in students.values()} == set(bench.KINDS)
    for gid, (reference, exercises) in cells.items():
        forms = {kind: bench.variant(kind, reference, exercises, "stub") for kind in bench.KINDS}
        assert forms["correct"] == reference and len(set(forms.values())) == len(forms), gid


def test_each_kind_of_generated_answer_scores_as_it_should(tmp_path):
    """On the quiz (one exercise of each kind): the reference and the slow answer score full marks,
    a spoiled answer and a stub lose exactly the points of their cells."""
    root = gc.make_course(tmp_path / "course")
    gc.run(root, "autograder", "keys", gc.ASSIGNMENT)
    key = json.loads(course.key_path(root, gc.ASSIGNMENT).read_text())
    kinds = {e["name"]: e["kind"] for nb in key["notebooks"].values() for e in nb["exercises"]}
    source = nbformat.read(root / "solutions" / gc.ASSIGNMENT / f"{gc.ASSIGNMENT}.ipynb", as_version=4)
    cells = bench.answer_cells(source, kinds, markers.of_course(root))
    stubs = {c.metadata.nbgrader.grade_id: c.source for c in gc.release(root).cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    first = next(iter(cells))
    changed = [("correct", first), ("slow", first), ("stub", first)] + [("wrong", gid) for gid in cells]  # every kind spoiled
    students = {}
    for kind, gid in changed:
        answers = {g: r for g, (r, _) in cells.items()}
        answers[gid] = bench.variant(kind, cells[gid][0], cells[gid][1], stubs[gid])
        students[f"{kind}_{gid.removesuffix('-answer')}"] = (kind, answers)
    bench.hand_in(root, gc.ASSIGNMENT, students)
    gc.run(root, "autograder", "grade", gc.ASSIGNMENT, "--jobs", "2")
    for student, record in gc.results(root).items():
        kind, spoiled = student.split("_", 1)
        lost = {c["grade_id"] for c in record["cells"] if c["score"] != c["max_score"]}
        assert lost == ({f"{spoiled}-tests"} if kind in ("wrong", "stub") else set()), (student, record["cells"])
