"""The benchmarks: ``python -m bench.telegram_load``, ``bench.step_cost``… (see bench/README.md)."""
