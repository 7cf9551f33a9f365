"""`make bench`: a large data set on PostgreSQL and the product measured under load.

Nothing here is imported by the application. See bench/run.py and docs/BENCHMARKS.md.
"""
