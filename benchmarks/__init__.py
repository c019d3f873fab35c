"""keras_wc benchmark suite: the papers' results side by side with the baselines.

Run ``python -m benchmarks.run --suite quick`` (or ``full``) from the repository root;
results go to ``benchmarks/results/`` and ``BENCHMARKS.md`` is regenerated.
"""
