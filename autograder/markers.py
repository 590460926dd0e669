"""Where nbgrader's solution and hidden-test regions begin and end, as the course configures them.

nbgrader's ClearSolutions and ClearHiddenTests find a region by a line that holds a delimiter
(``BEGIN SOLUTION`` and ``END SOLUTION``, ``BEGIN HIDDEN TESTS`` and ``END HIDDEN TESTS`` unless
nbgrader_config.py renames them; the comment mark before it is free). The book's views and
conventions, the release's reference answers and the grader's keys all read the delimiters here,
from those two preprocessors configured by the course's own file, so none of them can disagree
with what ``nbgrader generate_assignment`` hides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from . import course
from .kinds import DECLARATION


@dataclass(frozen=True)
class Markers:
    begin_solution: str
    end_solution: str
    begin_hidden: str
    end_hidden: str

    def has_solution_region(self, source: str) -> bool:
        return self.begin_solution in source and self.end_solution in source

    def without_solution_markers(self, source: str) -> str:
        """The reference answer as a student would write it: the solution region's lines, unmarked."""
        return "\n".join(line for line in source.splitlines()
                         if self.begin_solution not in line and self.end_solution not in line)

    def has_hidden_tests(self, source: str) -> bool:
        return self.begin_hidden in source

    def visible_tests(self, source: str) -> str:
        """The lines of a test cell above its hidden region (all of them when it has none)."""
        lines, start = self._split_at_hidden(source)
        return "\n".join(lines[:start])

    def hidden_tests(self, source: str) -> str:
        """The lines of a test cell's hidden region ("" when it has none)."""
        lines, start = self._split_at_hidden(source)
        return "\n".join(lines[start + 1:])

    def _split_at_hidden(self, source: str) -> tuple[list[str], int]:
        """The cell's lines and the index of the line that opens its hidden region (len when none)."""
        lines = source.splitlines()
        return lines, next((i for i, line in enumerate(lines) if self.begin_hidden in line), len(lines))

    def declarations(self, source: str) -> list[str]:
        """The exercise names a test cell declares (``Function("name", ...)``) in its hidden region."""
        return DECLARATION.findall(self.hidden_tests(source))


@functools.cache
def preprocessors(root: Path | None):
    """nbgrader's ClearSolutions and ClearHiddenTests, configured by the course at ``root`` (read
    once per process: the book asks for them for every cell); nbgrader's defaults outside a course."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
    from traitlets.config import Config

    config = course.nbgrader_config(root) if root is not None else Config()
    return ClearSolutions(config=config), ClearHiddenTests(config=config)


@functools.cache
def of_course(root: Path | None) -> Markers:
    solutions, hidden = preprocessors(root)
    return Markers(solutions.begin_solution_delimeter, solutions.end_solution_delimeter,
                   hidden.begin_test_delimeter, hidden.end_test_delimeter)
