"""The stock-hls4ml reference row: a QKeras 8-bit model through hls4ml's own Vivado backend.

Converted with hls4ml's default configuration (``config_from_keras_model``, model
granularity), compiled with g++ and run on the test images; reports how often its argmax
agrees with Keras. This shows what keras_wc's explicit types and bit-exact emulation fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import numpy as np

from keras_wc import datasets
from keras_wc.models import logits_model
from keras_wc.pipeline import train

from .harness import Workload, row_recipe
from .rows import row


def stock_hls4ml_agreement(workload: Workload, seed: int, workdir: Path, samples: int = 1000) -> Dict[str, Any]:
    """Train the QKeras 8-bit row and measure stock hls4ml's argmax agreement with Keras.

    Args:
        workload: the workload (dataset and architecture).
        seed: training seed.
        workdir: scratch folder for the hls4ml project.
        samples: test images compared.

    Returns:
        ``{"workload", "samples", "argmax_agreement", "max_abs_diff"}``.
    """
    import hls4ml

    data = datasets.load(workload.dataset)
    recipe = row_recipe(row("qkeras8"), workload, seed).with_overrides({"training": {"val_fraction": 0.0}})
    logits = logits_model(train(recipe, data).model)  # trained on the whole training split
    config = hls4ml.utils.config_from_keras_model(logits, granularity="model", backend="Vivado")
    hls_model = hls4ml.converters.convert_from_keras_model(
        logits, hls_config=config, backend="Vivado", output_dir=str(workdir / "stock_hls4ml"), io_type="io_parallel")
    hls_model.compile()
    x = np.ascontiguousarray(data[1][0][:samples])
    keras_out = logits.predict(x, verbose=0)
    hls_out = np.asarray(hls_model.predict(x)).reshape(keras_out.shape)
    return {"workload": workload.name, "samples": int(len(x)),
            "argmax_agreement": float(np.mean(keras_out.argmax(1) == hls_out.argmax(1))),
            "max_abs_diff": float(np.max(np.abs(keras_out - hls_out)))}
