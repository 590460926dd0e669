"""Sandboxed, tamper-proof, parallel grading on top of nbgrader.

``autograder.authoring`` is what solution notebooks import to declare their
exercises; ``python -m autograder`` is what instructors run to grade.
"""
