"""Every derivation exercise of the book accepts the forms a student may reasonably write.

Each formula in a chapter's answer key (the records of the build's execution) is rewritten by SymPy and
judged against the reference by the grader's own comparison (autograder/formula.py).
"""

from __future__ import annotations

import json

import pytest

from bookbuild import execute


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
