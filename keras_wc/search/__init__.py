"""Per-layer compression search under a hardware budget, on Optuna's RDB storage.

Each weight layer of a recipe's model gets a method and its settings (:mod:`.space`); each trial
trains with the recipe's training and is scored on validation accuracy and a hardware cost
(:mod:`.objective`, :mod:`.budget`); worker processes on one or many machines share one study
through an SQLAlchemy URL (:mod:`.study`); the Pareto front goes to ``pareto.json``/``pareto.png``
with one rebuildable recipe per point (:mod:`.pareto`). Needs the ``[search]`` extra.

Example:
    >>> from keras_wc.projects import packaged_recipe
    >>> from keras_wc.search import Budget, SearchSettings, search
    >>> result = search(SearchSettings(packaged_recipe("swc"), out="search_out", trials=20, workers=2,
    ...                                budget=Budget(memory_bits=40_000), epochs=4))
    >>> result.points[0]["accuracy"]
    0.95
"""

from .budget import Budget
from .pareto import export_recipe
from .space import CHOICES
from .study import SearchResult, SearchSettings, search

__all__ = ["Budget", "CHOICES", "SearchResult", "SearchSettings", "export_recipe", "search"]
