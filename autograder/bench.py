"""``make bench-grade``: this grader against plain ``nbgrader autograde`` on 100 submissions.

The submissions answer one chapter (``--chapter``, chapter 10 by default) and are derived from
that chapter's own reference and release, so the bench follows the chapter when it changes. Each
answer cell of a submission is, drawn with a fixed seed:

* the reference solution, as a perfect student writes it;
* a wrong answer: the reference followed by a line that spoils what the exercise checks, the way
  its kind allows (a value or a function's result moved off, a formula doubled, a choice that is
  not an option);
* the release's stub, which raises ``NotImplementedError`` (an exercise left undone);
* the reference after a one-second sleep (a slow answer).

Both graders grade the same files with the same answer key, each in its own copy of the course;
the bench prints both wall times, their ratio, and how often the two agree cell by cell.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from . import course, markers, pruning

KINDS = ("correct", "wrong", "stub", "slow")
SPOIL = "def _spoiled(v):\n    return type(v)(map(_spoiled, v)) if isinstance(v, (tuple, list)) else 1.5 * v + 1\n"
SPOILERS = {  # what turns the reference's ``name`` into a wrong answer, by exercise kind
    "value": SPOIL + "{name} = _spoiled({name})\n",
    "function": SPOIL + "_right_{name} = {name}\n\n\ndef {name}(*args, **kwargs):\n"
                        "    return _spoiled(_right_{name}(*args, **kwargs))\n",
    "formula": "{name} = 2 * {name} + 1\n",
    "choice": '{name} = "none of the options"\n',
}


def answer_cells(source: nbformat.NotebookNode, kinds: dict[str, str],
                 marks: markers.Markers) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """grade id -> (the reference solution, [(exercise name, kind)]) for each answer cell of the
    reference: the exercises its test cells declare that it binds, with their kinds (``kinds``, by
    name, from the answer key)."""
    found, answers = {}, {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            reference = marks.without_solution_markers(cell.source)
            found[meta["grade_id"]] = (reference + "\n", [])
            answers[meta["grade_id"]] = pruning.names(reference).binds
        elif meta.get("grade"):
            for name in marks.declarations(cell.source):
                owner = next((gid for gid in reversed(answers) if name in answers[gid]), None)
                if owner is not None:
                    found[owner][1].append((name, kinds[name]))
    return found


def variant(kind: str, reference: str, exercises: list[tuple[str, str]], stub: str) -> str:
    if kind == "stub":
        return stub
    if kind == "slow":
        return "import time\ntime.sleep(1)\n" + reference
    if kind == "wrong" and exercises:
        return reference + "\n" + "".join(SPOILERS[k].format(name=name) for name, k in exercises)
    return reference


def submissions(source: nbformat.NotebookNode, release: nbformat.NotebookNode, kinds: dict[str, str],
                marks: markers.Markers, count: int, seed: int = 2026) -> dict[str, tuple[str, dict[str, str]]]:
    """student -> (kind, answers by grade id): half correct, a quarter with one or two wrong answers,
    15% with an exercise left undone, 10% with a slow answer."""
    cells = answer_cells(source, kinds, marks)
    stubs = {c.metadata.nbgrader.grade_id: c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")}
    rng = random.Random(seed)
    plan = ["correct"] * (count // 2) + ["wrong"] * (count // 4) + ["stub"] * (count * 15 // 100)
    plan += ["slow"] * (count - len(plan))
    students = {}
    for number, kind in enumerate(plan):
        chosen = rng.sample(sorted(cells), k=min(len(cells), rng.randint(1, 2))) if kind != "correct" else []
        answers = {gid: variant(kind if gid in chosen else "correct", reference, exercises, stubs[gid])
                   for gid, (reference, exercises) in cells.items()}
        students[f"student{number:03d}"] = (kind, answers)
    return students


def make_course(folder: Path, repo: Path, assignment: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(repo / course.CONFIG_FILE, folder)
    for directory in (course.SOURCE_DIR, course.RELEASE_DIR):
        shutil.copytree(repo / directory / assignment, folder / directory / assignment)
    run(folder, "nbgrader", "generate_assignment", assignment, "--force", "--log-level=ERROR")


def notebook(folder: Path, directory: str, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(folder / directory / assignment / f"{assignment}.ipynb", as_version=4)


def hand_in(folder: Path, assignment: str, students: dict) -> None:
    release = notebook(folder, course.RELEASE_DIR, assignment)
    for student, (_, answers) in students.items():
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        target = folder / course.SUBMITTED_DIR / student / assignment
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{assignment}.ipynb")


def run(folder: Path, *command: str) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *command], cwd=folder, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def cell_scores(folder: Path, assignment: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        return {(g.student.id, g.name): g.score for s in gb.assignment_submissions(assignment)
                for nb in s.notebooks for g in nb.grades}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapter", default="ch10_rnn", help="the assignment (a folder of solutions/)")
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", default="_build/bench")
    args = parser.parse_args(argv)
    chapter = args.chapter
    repo = Path(__file__).resolve().parent.parent
    out = (repo / args.output).resolve()
    ours, plain = out / "ours", out / "plain"
    for folder in (ours, plain):
        make_course(folder, repo, chapter)
        (folder / course.STATE_DIR).mkdir(exist_ok=True)
        (folder / course.STATE_DIR / "secret-seed").write_text("2026\n")
        run(folder, "autograder", "keys", chapter)  # both graders use the same key, built beforehand
    key = json.loads(course.key_path(ours, chapter).read_text(encoding="utf-8"))
    kinds = {e["name"]: e["kind"] for nb in key["notebooks"].values() for e in nb["exercises"]}
    students = submissions(notebook(ours, course.SOURCE_DIR, chapter), notebook(ours, course.RELEASE_DIR, chapter),
                           kinds, markers.of_course(ours), args.submissions)
    for folder in (ours, plain):
        hand_in(folder, chapter, students)
    print(f"grading {len(students)} submissions of {chapter} "
          f"({', '.join(f'{k}: {sum(v[0] == k for v in students.values())}' for k in KINDS)})")
    ours_seconds = run(ours, "autograder", "grade", chapter, "--jobs", str(args.jobs))
    print(f"python -m autograder grade --jobs {args.jobs} (sandboxed): {ours_seconds:.1f} s")
    plain_seconds = run(plain, "nbgrader", "autograde", chapter)
    print(f"nbgrader autograde:                        {plain_seconds:.1f} s")
    a, b = cell_scores(ours, chapter), cell_scores(plain, chapter)
    agree = sum(a[k] == b.get(k) for k in a)
    differing = sorted({k[0] for k in a if a[k] != b.get(k)})
    summary = {"chapter": chapter, "submissions": len(students), "jobs": args.jobs,
               "ours_seconds": round(ours_seconds, 1), "nbgrader_seconds": round(plain_seconds, 1),
               "ratio": round(ours_seconds / plain_seconds, 3), "cells": len(a), "cells_agreeing": agree,
               "students_differing": differing}
    print(f"ratio: {summary['ratio']:.2f} of nbgrader's wall time; "
          f"agreement: {agree}/{len(a)} grade cells ({100 * agree / len(a):.1f}%)")
    if differing:
        print("students graded differently:", ", ".join(differing))
    (out / "bench-grade.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
