"""A deterministic demo company for trying csatbot and for benchmarks."""
