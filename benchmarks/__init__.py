"""Benchmark scripts (``make bench``) and the small library they share.

Run the scripts as files (``python benchmarks/e2e.py ...``); each puts the repository root on
``sys.path`` so ``benchmarks.*`` imports work without installing anything.
"""
