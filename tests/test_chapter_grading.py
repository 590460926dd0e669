"""Every chapter under the sandboxed grader: the reference scores full marks, the blank release zero.

Each chapter is graded in a course of its own (tests/chapter_course.py), on the spare core while the
browser checks run if it can (``chapter_grades`` in tests/conftest.py).
"""

from __future__ import annotations

import json

import pytest

from bookbuild import execute


def test_reference_scores_full_marks_and_blank_scores_zero(chapter_grades, chapter):
    records = chapter_grades[chapter.id]
    reference, blank = records["reference"], records["blank"]
    lost = [(c["grade_id"], c["reasons"]) for c in reference["cells"] if c["score"] != c["max_score"]]
    assert not lost, f"the reference loses points: {lost}"
    earned = [c["grade_id"] for c in blank["cells"] if c["score"]]
    assert not earned, f"the blank notebook earns points in {earned}"
    assert reference["cells"] and all(c["score"] is not None for c in reference["cells"]), \
        f"{chapter.id}: the reference has no graded cell, or one left ungraded"


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
