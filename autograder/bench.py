"""``make bench-grade``: this grader against plain ``nbgrader autograde`` on 100 submissions.

The submissions are answers to the pilot chapter (ch10_rnn), drawn with a
fixed seed from a catalogue of answers students actually give: correct ones
written in different ways, answers with a typical mistake, answers that raise,
and correct but slow ones. Both graders grade the same files with the same
answer key, each in its own copy of the course; the bench prints both wall
times, their ratio, and how often the two agree cell by cell.
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

from . import course

ASSIGNMENT = "ch10_rnn"

CORRECT = {
    "rnn_forward-answer": [
        "def rnn_forward(xs, h0, U, W, V, b, c):\n    h = np.asarray(h0, dtype=float)\n    hs, ys = [], []\n"
        "    for x in xs:\n        h = np.tanh(U @ x + W @ h + b)\n        hs.append(h)\n        ys.append(V @ h + c)\n"
        "    return np.array(hs), np.array(ys)\n",
        "def rnn_forward(xs, h0, U, W, V, b, c):\n    states = [np.asarray(h0, dtype=float)]\n    for x in xs:\n"
        "        states.append(np.tanh(U @ x + W @ states[-1] + b))\n    hs = np.stack(states[1:])\n"
        "    return hs, hs @ V.T + c\n",
    ],
    "clip_by_norm-answer": [
        "def clip_by_norm(g, max_norm):\n    g = np.asarray(g, dtype=float)\n    norm = np.linalg.norm(g.ravel())\n"
        "    return g * (max_norm / norm) if norm > max_norm else g.copy()\n",
        "def clip_by_norm(g, max_norm):\n    g = np.array(g, dtype=np.float64)\n    norm = np.sqrt((g ** 2).sum())\n"
        "    if norm <= max_norm:\n        return g\n    return g / norm * max_norm\n",
    ],
    "lstm_step-answer": [
        "def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):\n"
        "    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=-1)\n"
        "    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n    return torch.sigmoid(o) * torch.tanh(c), c\n",
    ],
    "dh_dcprev-answer": [
        "dh_dcprev = o_t * (1 - sp.tanh(f_t * c_prev + i_t * g_t) ** 2) * f_t\n",
        "dh_dcprev = sp.diff(o_t * sp.tanh(f_t * c_prev + i_t * g_t), c_prev)\n",
        "dh_dcprev = f_t * o_t / sp.cosh(f_t * c_prev + i_t * g_t) ** 2\n",
    ],
    "gru_step-answer": [
        "def gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
        "    xr, xz, xn = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)\n"
        "    hr, hz, hn = (h @ weight_hh.T + bias_hh).chunk(3, dim=-1)\n"
        "    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)\n"
        "    return (1 - z) * torch.tanh(xn + r * hn) + z * h\n",
    ],
    "lstm_param_count-answer": [
        "def lstm_param_count(input_size, hidden_size, convention):\n"
        "    per_gate = hidden_size * (input_size + hidden_size) + hidden_size\n"
        "    if convention == 'pytorch':\n        per_gate += hidden_size\n    return 4 * per_gate\n",
    ],
    "bigru_params-answer": ["bigru_params = 3600\n",
                            "bigru_params = sum(p.numel() for p in nn.GRU(8, 20, bidirectional=True).parameters())\n"],
    "why_more_params-answer": ['why_more_params = "b"\n'],
}

MISTAKES = {
    "rnn_forward-answer": ["def rnn_forward(xs, h0, U, W, V, b, c):\n    h, hs, ys = h0, [], []\n    for x in xs:\n"
                           "        h = np.tanh(U @ x + W @ h)\n        hs.append(h)\n        ys.append(V @ h + c)\n"
                           "    return np.array(hs), np.array(ys)\n"],
    "clip_by_norm-answer": ["def clip_by_norm(g, max_norm):\n    return np.clip(np.asarray(g, dtype=float), -max_norm, max_norm)\n"],
    "lstm_step-answer": ["def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                         "    i, f, o, g = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=-1)\n"
                         "    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
                         "    return torch.sigmoid(o) * torch.tanh(c), c\n"],
    "dh_dcprev-answer": ["dh_dcprev = o_t * (1 - sp.tanh(f_t * c_prev + i_t * g_t) ** 2)\n", "dh_dcprev = f_t\n"],
    "gru_step-answer": ["def gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                        "    xr, xz, xn = (x @ weight_ih.T + bias_ih).chunk(3, dim=-1)\n"
                        "    hr, hz, hn = (h @ weight_hh.T + bias_hh).chunk(3, dim=-1)\n"
                        "    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)\n"
                        "    return z * torch.tanh(xn + r * hn) + (1 - z) * h\n"],
    "lstm_param_count-answer": ["def lstm_param_count(input_size, hidden_size, convention):\n"
                                "    return 4 * (hidden_size * (input_size + hidden_size) + hidden_size)\n"],
    "bigru_params-answer": ["bigru_params = 1800\n", "bigru_params = 3360\n"],
    "why_more_params-answer": ['why_more_params = "a"\n'],
}

ERRORS = {
    "rnn_forward-answer": ["def rnn_forward(xs, h0, U, W, V, b, c)\n    return xs\n"],
    "clip_by_norm-answer": ["def clip_by_norm(g, max_norm):\n    return g * max_norm / norm\n"],
    "lstm_step-answer": ["def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                         "    gates = x @ weight_hh.T + h @ weight_ih.T\n    return gates, c\n"],
    "bigru_params-answer": ["bigru_params = n_parameters(nn.GRU(8, 20, bidirectional=True))\n"],
}

SLOW = {
    "clip_by_norm-answer": ["import time\n\ndef clip_by_norm(g, max_norm):\n    time.sleep(0.1)\n"
                            "    g = np.asarray(g, dtype=float)\n    norm = np.linalg.norm(g.ravel())\n"
                            "    return g * (max_norm / norm) if norm > max_norm else g.copy()\n"],
    "bigru_params-answer": ["import time\ntime.sleep(2)\nbigru_params = 3600\n"],
}


def submissions(count: int, seed: int = 2026) -> dict[str, tuple[str, dict[str, str]]]:
    """student -> (kind, answers): half correct, a quarter with mistakes, 15% raising, 10% slow."""
    rng = random.Random(seed)
    plan = ["correct"] * (count // 2) + ["mistake"] * (count // 4)
    plan += ["error"] * (count * 15 // 100)
    plan += ["slow"] * (count - len(plan))
    students = {}
    for number, kind in enumerate(plan):
        answers = {cell: rng.choice(variants) for cell, variants in CORRECT.items()}
        catalogue = {"mistake": MISTAKES, "error": ERRORS, "slow": SLOW}.get(kind, {})
        for cell in rng.sample(sorted(catalogue), k=min(len(catalogue), rng.randint(1, 2))) if catalogue else []:
            answers[cell] = rng.choice(catalogue[cell])
        students[f"student{number:03d}"] = (kind, answers)
    return students


def make_course(folder: Path, repo: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(repo / course.CONFIG_FILE, folder)
    for directory in (course.SOURCE_DIR, course.RELEASE_DIR):
        shutil.copytree(repo / directory / ASSIGNMENT, folder / directory / ASSIGNMENT)
    run(folder, "nbgrader", "generate_assignment", ASSIGNMENT, "--force", "--log-level=ERROR")


def hand_in(folder: Path, students: dict) -> None:
    release = nbformat.read(folder / course.RELEASE_DIR / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for student, (_, answers) in students.items():
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        target = folder / course.SUBMITTED_DIR / student / ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{ASSIGNMENT}.ipynb")


def run(folder: Path, *command: str) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *command], cwd=folder, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def cell_scores(folder: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        return {(g.student.id, g.name): g.score for s in gb.assignment_submissions(ASSIGNMENT)
                for nb in s.notebooks for g in nb.grades}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", default="_build/bench")
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parent.parent
    out = (repo / args.output).resolve()
    students = submissions(args.submissions)
    ours, plain = out / "ours", out / "plain"
    for folder in (ours, plain):
        make_course(folder, repo)
        hand_in(folder, students)
        (folder / course.STATE_DIR).mkdir(exist_ok=True)
        (folder / course.STATE_DIR / "secret-seed").write_text("2026\n")
        run(folder, "autograder", "keys", ASSIGNMENT)  # both graders use the same key, built beforehand
    print(f"grading {len(students)} submissions of {ASSIGNMENT} "
          f"({', '.join(f'{k}: {sum(v[0] == k for v in students.values())}' for k in ('correct', 'mistake', 'error', 'slow'))})")
    ours_seconds = run(ours, "autograder", "grade", ASSIGNMENT, "--jobs", str(args.jobs))
    print(f"python -m autograder grade --jobs {args.jobs} (sandboxed): {ours_seconds:.1f} s")
    plain_seconds = run(plain, "nbgrader", "autograde", ASSIGNMENT)
    print(f"nbgrader autograde:                        {plain_seconds:.1f} s")
    a, b = cell_scores(ours), cell_scores(plain)
    agree = sum(a[k] == b.get(k) for k in a)
    differing = sorted({k[0] for k in a if a[k] != b.get(k)})
    summary = {"submissions": len(students), "jobs": args.jobs, "ours_seconds": round(ours_seconds, 1),
               "nbgrader_seconds": round(plain_seconds, 1), "ratio": round(ours_seconds / plain_seconds, 3),
               "cells": len(a), "cells_agreeing": agree, "students_differing": differing}
    print(f"ratio: {summary['ratio']:.2f} of nbgrader's wall time; "
          f"agreement: {agree}/{len(a)} grade cells ({100 * agree / len(a):.1f}%)")
    if differing:
        print("students graded differently:", ", ".join(differing))
    (out / "bench-grade.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
