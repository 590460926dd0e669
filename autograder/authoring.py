"""How a solution notebook declares an autograded exercise.

An exercise is three nbgrader cells: the statement (markdown), the answer cell
(``solution``) and the test cell (``grade``, with points). The test cell starts
with plain ``assert`` lines that students run for instant feedback, and ends
with a hidden block that declares the exercise::

    ### BEGIN HIDDEN TESTS
    from autograder.authoring import Function
    Function("clip_by_norm",
             cases=[dict(g=np.array([3.0, 4.0]), max_norm=1.0)],
             random_cases=lambda rng: dict(g=rng.normal(size=5), max_norm=rng.uniform(0.1, 3)),
             n_random=10, rtol=1e-6).check(globals())
    ### END HIDDEN TESTS

nbgrader removes the hidden block from the student notebook, so students (in
JupyterLab or Colab, without this package) see only the visible asserts.

``check`` behaves according to where it runs (``autograder/mode.py``):

* **record** (inside the course's ``solutions/`` folder, as in the book
  build and ``make test``, or with ``AUTOGRADER_RECORD`` set, as by
  ``python -m autograder keys``): the namespace holds the reference solution.
  Its outputs on every case are computed (random cases drawn from
  ``AUTOGRADER_SEED``, the instructor's secret seed when building a key) and
  judged against themselves, which proves the declaration works: the cases
  build, the outputs encode, the tolerances hold. With ``AUTOGRADER_RECORD``
  the entry is also appended to that file, the raw material of the key.
* **compare** (anywhere else, e.g. under plain ``nbgrader autograde``): the
  namespace holds a student's answer, judged against the stored answer key.

``python -m autograder grade`` never runs this cell in the student's process:
it reads the answer key, sends only the inputs into the sandbox, and judges
the returned plain data in its own process (``autograder.kinds.judge``).

This module is what an author imports; each kind's rules, from recording to
judging, live in ``autograder/kinds.py``, where a new kind is added.
"""

from .kinds import Choice, Formula, Function, Value

__all__ = ["Choice", "Formula", "Function", "Value"]
