"""Benchmarks: each prints its ratio to the raw library underneath (DESIGN.md, principle 7).

Run one with ``python -m bench.<name> --help``; results also land in ``bench/results/<name>.json``.
"""
