"""Every chapter under the sandboxed grader: the reference scores full marks, the blank release zero.

The answer key comes from the records the book build's single execution of
the chapter left behind (seed 0), so no chapter is executed again here; the
grader runs only the cells the answers need.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import course, keys
from autograder.__main__ import main as autograder_main
from bookbuild import execute, layout
from bookbuild.release import solved

from conftest import CHAPTERS
from grading_course import environment


@pytest.fixture(scope="module")
def chapter_course(tmp_path_factory, executed):
    """One course holding every chapter, registered in its gradebook, with keys and two submissions each."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    root = tmp_path_factory.mktemp("chapters")
    shutil.copy2(layout.ROOT / course.CONFIG_FILE, root)
    (root / course.STATE_DIR).mkdir()
    (root / course.STATE_DIR / "secret-seed").write_text("0\n")
    for chapter in CHAPTERS:
        shutil.copytree(chapter.source.parent, root / course.SOURCE_DIR / chapter.id)
        key = keys.from_records(execute.key_records(chapter), chapter.source, seed=0)
        path = course.key_path(root, chapter.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(key))
    with _inside(root):
        config = PyFileConfigLoader(course.CONFIG_FILE, path=str(root)).load_config()
        api = NbGraderAPI(config=config)
        for chapter in CHAPTERS:
            assert api.generate_assignment(chapter.id, force=True)["success"], chapter.id
    for chapter in CHAPTERS:
        _submit(root, "reference", chapter, solved(chapter))
        _submit(root, "blank", chapter, nbformat.read(chapter.student, as_version=4))
    return root


def _submit(root: Path, student: str, chapter: layout.Chapter, nb) -> None:
    folder = root / "submitted" / student / chapter.id
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{chapter.id}.ipynb")


@contextlib.contextmanager
def _inside(folder: Path):
    previous, saved_env = Path.cwd(), dict(os.environ)
    os.chdir(folder)
    os.environ.update(environment())
    try:
        yield
    finally:
        os.chdir(previous)
        os.environ.clear()
        os.environ.update(saved_env)


@pytest.fixture(scope="module")
def graded(chapter_course):
    """Every chapter graded in one run, two sandboxes at a time: a chapter's slow reference leaves
    the other core to the next chapter's submissions instead of idle."""
    with _inside(chapter_course):
        autograder_main(["grade", *(chapter.id for chapter in CHAPTERS), "--jobs", "2"])
    return chapter_course


def test_reference_scores_full_marks_and_blank_scores_zero(graded, chapter):
    records = {r["student"]: r for r in
               (json.loads(p.read_text()) for p in (graded / ".autograder" / "results" / chapter.id).glob("*.json"))}
    assert sorted(records) == ["blank", "reference"], f"{chapter.id}: graded {sorted(records)}"
    reference, blank = records["reference"], records["blank"]
    assert reference["assignment"] == blank["assignment"] == chapter.id
    lost = [(c["grade_id"], c["reasons"]) for c in reference["cells"] if c["score"] != c["max_score"]]
    assert not lost, f"the reference loses points: {lost}"
    earned = [c["grade_id"] for c in blank["cells"] if c["score"]]
    assert not earned, f"the blank notebook earns points in {earned}"
    assert reference["cells"] and all(c["score"] is not None for c in reference["cells"])


def test_the_gradebook_holds_each_chapter_under_its_own_assignment(graded):
    """One run grading 21 assignments writes each submission's scores under its own assignment, as a
    run per assignment would: what the formgrader and the export read."""
    from autograder.__main__ import course_directory
    from autograder.gradebook import current_scores

    with _inside(graded):
        coursedir = course_directory(graded)
        for chapter in CHAPTERS:
            view = current_scores(coursedir, chapter.id)
            assert sorted(view) == [("blank", chapter.id), ("reference", chapter.id)], f"{chapter.id}: {sorted(view)}"
            reference, blank = (view[student, chapter.id]["cells"].values() for student in ("reference", "blank"))
            assert all(cell["score"] for cell in reference), f"{chapter.id}: the reference's scores {reference}"
            assert not any(cell["score"] for cell in blank), f"{chapter.id}: the blank notebook's scores {blank}"


def _rewrites(expr):
    """Forms a student may reasonably write for the same formula."""
    import sympy

    forms = [sympy.expand(expr), sympy.factor(expr), sympy.simplify(expr), sympy.together(expr),
             expr.rewrite(sympy.exp), expr.rewrite(sympy.sech), expr.rewrite(sympy.cosh), expr.rewrite(sympy.tanh)]
    return [f for f in dict.fromkeys(forms) if f.free_symbols <= expr.free_symbols]


def test_equivalent_rewrites_of_every_formula_reference_score(executed, chapter):
    """Whatever equivalent form the student writes (expanded, factored, with sech instead of
    1 - tanh**2, in exponentials) is encoded and judged equal to the reference."""
    from autograder import codec, formula

    entries = [json.loads(line) for line in execute.key_records(chapter).read_text().splitlines()]
    formulas = [e for e in entries if e["kind"] == "formula"]
    if not formulas:
        pytest.skip(f"{chapter.id} has no derivation exercise")
    for entry in formulas:
        for case in entry["cases"]:
            reference = codec.decode(case["expected"]).tree
            for form in _rewrites(formula.to_sympy(reference)):
                same, why = formula.equivalent(formula.to_tree(form), reference, entry["domains"])
                assert same, f"{entry['name']}: {form} was refused: {why}"
