"""keras_wc benchmark suite: the papers' results side by side with the baselines.

Run ``python -m benchmarks.run --suite quick`` (or ``full``) from the repository root;
results go to ``benchmarks/results/`` and ``BENCHMARKS.md`` is regenerated. Every row and
every method of ``benchmarks.bench_training`` is a recipe under ``benchmarks/recipes/``
(schema: ``docs/recipes.md``).
"""
