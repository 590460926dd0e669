"""Builds the bilingual book: executes chapters once, derives language views and student notebooks, runs Jupyter Book."""
