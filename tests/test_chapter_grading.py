"""Every chapter under the sandboxed grader: the reference scores full marks, the blank release zero.

The course holding every chapter is made and graded once (``graded_chapters`` in tests/conftest.py,
tests/chapter_course.py); these tests read its results and its gradebook.
"""

from __future__ import annotations

import json

from chapter_course import inside
from conftest import CHAPTERS


def test_reference_scores_full_marks_and_blank_scores_zero(graded_chapters, chapter):
    records = {r["student"]: r for r in
               (json.loads(p.read_text()) for p in (graded_chapters / ".autograder" / "results" / chapter.id).glob("*.json"))}
    assert sorted(records) == ["blank", "reference"], f"{chapter.id}: graded {sorted(records)}"
    reference, blank = records["reference"], records["blank"]
    assert reference["assignment"] == blank["assignment"] == chapter.id
    lost = [(c["grade_id"], c["reasons"]) for c in reference["cells"] if c["score"] != c["max_score"]]
    assert not lost, f"the reference loses points: {lost}"
    earned = [c["grade_id"] for c in blank["cells"] if c["score"]]
    assert not earned, f"the blank notebook earns points in {earned}"
    assert reference["cells"] and all(c["score"] is not None for c in reference["cells"])


def test_the_gradebook_holds_each_chapter_under_its_own_assignment(graded_chapters):
    """One run grading 21 assignments writes each submission's scores under its own assignment, as a
    run per assignment would: what the formgrader and the export read."""
    from autograder.__main__ import course_directory
    from autograder.gradebook import current_scores

    with inside(graded_chapters):
        coursedir = course_directory(graded_chapters)
        for chapter in CHAPTERS:
            view = current_scores(coursedir, chapter.id)
            assert sorted(view) == [("blank", chapter.id), ("reference", chapter.id)], f"{chapter.id}: {sorted(view)}"
            reference, blank = (view[student, chapter.id]["cells"].values() for student in ("reference", "blank"))
            assert all(cell["score"] for cell in reference), f"{chapter.id}: the reference's scores {reference}"
            assert not any(cell["score"] for cell in blank), f"{chapter.id}: the blank notebook's scores {blank}"
