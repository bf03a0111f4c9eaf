"""HTTP clients that tests and benchmarks both point at the service (slow and idle ones).

Shared by tests/ and bench/, so it belongs to neither: bench never imports tests.
"""
