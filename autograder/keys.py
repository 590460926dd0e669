"""Answer keys: the reference solution's outputs on every case of every exercise.

A key is built by running the reference notebook (``solutions/``), a trusted
file, top to bottom in a separate process with the driver in record mode: the
exercise declarations in its test cells write their cases and the reference's
outputs, random cases drawn from the instructor's secret seed included. Keys
live in ``.autograder/keys/`` (never committed) and are rebuilt whenever the
reference notebook or the seed changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from . import course, markers, mode

# A reference chapter runs in about a minute on a quiet laptop; on a busy shared machine ten times
# that. Past this many seconds the notebook is taken to hang.
KEY_TIMEOUT = 1800


class KeyBuildError(RuntimeError):
    """The reference notebook could not produce a key."""


def fingerprint(seed: int) -> str:
    return hashlib.sha256(f"autograder-seed:{seed}".encode()).hexdigest()[:16]


def content_fingerprint(key: dict) -> str:
    """What a grade depends on: every case and every reference output of the key, and its seed.

    A result records it, and ``grade`` regrades any submission whose result was judged with a
    different one: a corrected reference answer changes the key and so the grades, without --force."""
    text = json.dumps({"seed": key["seed"], "exercises": {name: nb["exercises"] for name, nb in key["notebooks"].items()}},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_notebooks(root: Path, assignment: str) -> dict[str, Path]:
    folder = root / course.SOURCE_DIR / assignment
    return {p.stem: p for p in sorted(folder.glob("*.ipynb"))}


def is_current(root: Path, assignment: str, seed: int | None = None) -> bool:
    """Whether the stored key matches the reference notebooks and the seed (no build needed)."""
    seed = course.secret_seed(root) if seed is None else seed
    path = course.key_path(root, assignment)
    if not path.exists():
        return False
    key = json.loads(path.read_text(encoding="utf-8"))
    wanted = {name: _sha256(p) for name, p in source_notebooks(root, assignment).items()}
    return key.get("seed") == fingerprint(seed) and {n: v["source_sha256"] for n, v in key["notebooks"].items()} == wanted


def load_or_build(root: Path, assignment: str, seed: int | None = None) -> dict:
    """The key of an assignment, rebuilt only if a reference notebook or the seed changed."""
    seed = course.secret_seed(root) if seed is None else seed
    path = course.key_path(root, assignment)
    sources = source_notebooks(root, assignment)
    if not sources:
        raise KeyBuildError(f"no reference notebook in {root / course.SOURCE_DIR / assignment}")
    wanted = {name: _sha256(p) for name, p in sources.items()}
    if is_current(root, assignment, seed):
        return json.loads(path.read_text(encoding="utf-8"))
    key = {"assignment": assignment, "seed": fingerprint(seed),
           "notebooks": {name: {"source_sha256": wanted[name], "exercises": record(p, seed)}
                         for name, p in sources.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key), encoding="utf-8")
    path.chmod(0o600)
    return key


def record(source: Path, seed: int) -> list[dict]:
    """Run one reference notebook in record mode and return its exercises' key entries."""
    nb = nbformat.read(source, as_version=4)
    cells = [{"source": c.source} for c in nb.cells if c.cell_type == "code"]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "key.jsonl"
        env = {**os.environ, mode.SEED_VARIABLE: str(seed), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        try:
            result = subprocess.run([sys.executable, "-m", "autograder.driver", "--record", str(out)],
                                    input=json.dumps({"cells": cells}), text=True, capture_output=True,
                                    cwd=source.parent, env=env, timeout=KEY_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise KeyBuildError(f"{source} did not finish within {KEY_TIMEOUT} s; "
                                "run it in JupyterLab to see where it hangs") from None
        if result.returncode:
            raise KeyBuildError(f"{source}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'failed'}")
        entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    if not entries:
        raise KeyBuildError(f"{source} declares no exercise")
    return with_grade_ids(entries, nb, _markers_of(source))


def with_grade_ids(entries: list[dict], nb, marks: markers.Markers) -> list[dict]:
    """Tie each recorded exercise to the grade cell whose hidden block declares it."""
    owner = {name: cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
             if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
             for name in marks.declarations(cell.source)}
    missing = set(owner) - {entry["name"] for entry in entries}
    if missing:
        raise KeyBuildError(f"declared but never checked (is `.check(globals())` missing?): {sorted(missing)}")
    return [{**entry, "grade_id": owner.get(entry["name"])} for entry in entries]


def from_records(records_file: Path, source: Path, seed: int) -> dict:
    """A key from the records an execution of the reference notebook already wrote
    (``mode.recording_environment``)."""
    nb = nbformat.read(source, as_version=4)
    entries = [json.loads(line) for line in records_file.read_text(encoding="utf-8").splitlines()]
    return {"assignment": source.parent.name, "seed": fingerprint(seed),
            "notebooks": {source.stem: {"source_sha256": _sha256(source), "exercises": with_grade_ids(entries, nb, _markers_of(source))}}}


def _markers_of(source: Path) -> markers.Markers:
    """The delimiters of the course that holds the reference notebook ``source``."""
    return markers.of_course(course.find_root(source.parent))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
