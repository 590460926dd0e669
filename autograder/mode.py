"""Where a declaration runs: recording a reference, or judging a student against the stored key.

A test cell's hidden block runs in three places. In the book's build, ``make test`` and the key
builder its namespace holds the reference solution: the declaration records the answer-key entry
(and judges the reference against it, which proves the declaration works). Under a plain
``nbgrader autograde`` it holds a student's answer, judged against the key stored for the
assignment. Whoever starts a reference's kernel says so through the environment, the only channel
into a kernel that nbclient or nbgrader starts: :func:`recording_environment` writes it, and no
other module spells its variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import course

SELF_CHECK_SEED = 0
RECORD_VARIABLE = "AUTOGRADER_RECORD"   # a file the key entries are appended to; "" records nothing
SEED_VARIABLE = "AUTOGRADER_SEED"       # the seed of the random cases (the instructor's, for a key)


def recording_environment(records: str | os.PathLike | None, seed: int | None = None) -> dict[str, str]:
    """The environment variables of a kernel whose declarations append their key entries to
    ``records`` (None: record nothing, and judge against the stored key unless run in solutions/),
    drawing random cases from ``seed`` (None: leave the seed as it is)."""
    environment = {RECORD_VARIABLE: "" if records is None else str(records)}
    if seed is not None:
        environment[SEED_VARIABLE] = str(seed)
    return environment


def is_recording() -> bool:
    """True for a reference (recording a key, or inside the course's solutions/), False for a student."""
    if os.environ.get(RECORD_VARIABLE):
        return True
    root = course.find_root()
    here = Path.cwd().resolve()
    return root is not None and (root / course.SOURCE_DIR) in (here, *here.parents)


def seed() -> int:
    """The seed the random cases of a recorded entry are drawn from."""
    return int(os.environ.get(SEED_VARIABLE, SELF_CHECK_SEED))


def keep(entry: dict) -> None:
    """Append a recorded entry to the key's raw material, when the kernel was asked to record one."""
    if os.environ.get(RECORD_VARIABLE):
        with open(os.environ[RECORD_VARIABLE], "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def stored_entry(name: str) -> dict:
    """The answer-key entry for ``name`` of the assignment being graded (cwd's name)."""
    root = course.find_root()
    assignment = Path.cwd().name
    path = course.key_path(root, assignment) if root else None
    if path is None or not path.exists():
        raise AssertionError(f"no answer key for {assignment!r}: run `python -m autograder keys {assignment}` "
                             "in the course folder before grading")
    for notebook in json.loads(path.read_text(encoding="utf-8"))["notebooks"].values():
        for entry in notebook["exercises"]:
            if entry["name"] == name:
                return entry
    raise AssertionError(f"the answer key of {assignment!r} has no exercise {name!r}")
