"""nbgrader configuration of the book's course.

The reference notebooks in solutions/ are nbgrader's source directory and the
student notebooks in notebooks/ its release directory, so the standard
commands work from this folder: `nbgrader generate_assignment ch10_rnn`,
`nbgrader validate`, `nbgrader autograde`, `nbgrader generate_feedback`,
`nbgrader export`. Instructors grade with `python -m autograder grade`, which
writes to the same gradebook.

The gradebook is SQLite (gradebook.db here) unless NBGRADER_DB_URL names
another database, e.g. postgresql://grader@localhost/dlbook.
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)
from autograder import course  # noqa: E402  (the directory names are defined once, there)

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dl-study-book"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = course.SOURCE_DIR
c.CourseDirectory.release_directory = course.RELEASE_DIR
c.CourseDirectory.submitted_directory = course.SUBMITTED_DIR
c.CourseDirectory.autograded_directory = course.AUTOGRADED_DIR
c.CourseDirectory.feedback_directory = course.FEEDBACK_DIR
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL", f"sqlite:///{os.path.join(ROOT, 'gradebook.db')}")

# Chapters run in well under a minute; a cell that needs more is stuck.
c.Execute.timeout = 120
