"""Benchmark of the template's database-testing strategies: see benchmarks/README.md."""
