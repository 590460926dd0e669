"""Generate the student notebooks with nbgrader.

``notebooks/`` is nbgrader's release directory: the reference notebooks with
solutions replaced by stubs, hidden tests removed, checksums added. It is
committed so Colab and Binder can open it, and regenerated -- never edited --
with ``make release``. The test suite regenerates it into a temporary folder
and compares, so a stale student notebook cannot land.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .layout import NOTEBOOKS, ROOT, Chapter


def generate(chapters: list[Chapter], release_dir: Path = NOTEBOOKS) -> None:
    for chapter in chapters:
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", chapter.id,
                   "--force", "--no-db", "--log-level=ERROR",
                   f"--CourseDirectory.release_directory={release_dir}"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"nbgrader could not release {chapter.id}:\n{result.stdout}{result.stderr}")
