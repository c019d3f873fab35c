"""The end-to-end job behind ``keras-wc demo``: train -> report -> HLS -> C simulation.

Each stage is a small function so notebooks, benchmarks and the FPGA-project recipes reuse
them; :func:`run_demo` strings them together and prints one line per stage.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Dict, Optional


@dataclass
class DemoSettings:
    """What ``keras-wc demo`` trains.

    Args:
        method: one of :attr:`METHODS` (the keras_wc quantizer used on every layer).
        quick: fewer epochs and C-simulation samples (the CI smoke run).
        epochs: training epochs; ``None`` picks 4 (quick) or 8.
        seed: seed of Keras, numpy and the data order.
        overwrite: allow replacing an existing HLS output folder.
    """

    METHODS: ClassVar[tuple] = ("swc", "swc-po2", "dfp", "po2", "poly", "ternary")

    method: str = "swc"
    quick: bool = False
    epochs: Optional[int] = None
    seed: int = 0
    overwrite: bool = False

    def __post_init__(self):
        if self.method not in self.METHODS:
            raise ValueError(f"method={self.method!r}: expected one of {list(self.METHODS)}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs={self.epochs}: must be >= 1")

    @property
    def n_epochs(self) -> int:
        return self.epochs if self.epochs is not None else (4 if self.quick else 8)

    @property
    def n_csim(self) -> int:
        return 200 if self.quick else 360


@dataclass
class DemoResult:
    """What the demo measured (also returned to callers such as notebooks)."""

    test_accuracy: float
    totals: Dict[str, float] = field(default_factory=dict)
    csim: Optional[object] = None
    exit_code: int = 0


def demo_quantizer_factory(method: str) -> Callable:
    """A ``factory(layer_name, kernel_shape)`` giving each layer the demo's quantizer.

    Args:
        method: one of :attr:`DemoSettings.METHODS`.

    Returns:
        A factory for :mod:`keras_wc.models` builders.

    Example:
        >>> factory = demo_quantizer_factory("swc")
        >>> factory("conv1", (3, 3, 1, 8)).group
        'kernel'
    """
    from . import quantizers as q

    def factory(name: str, shape) -> object:
        is_conv = len(shape) >= 3
        if method in ("swc", "swc-po2"):
            return q.SWC(sw_bits=4, group="kernel" if is_conv else 16,
                         sw_format="po2" if method == "swc-po2" else "fixed")
        if method == "dfp":
            return q.DFP(bits=6)
        if method == "po2":
            return q.Po2(bits=4)
        if method == "poly":
            return q.PolyApprox(degree=1, levels=16, group="filter")
        return q.SparseTernary(n=8, k=2) if name != "logits" else q.DFP(bits=8)

    return factory


def build_demo_model(method: str):
    """LeNet-5 for 8x8 digits with the method on every weight layer and 8-bit activations."""
    from . import models

    return models.lenet5(input_shape=(8, 8, 1), num_classes=10, quantizer=demo_quantizer_factory(method),
                         activation_quantizer="quantized_relu(8,3)", input_quantizer="quantized_relu(8,1)")


def train(model, data, epochs: int, seed: int, batch_size: int = 32, learning_rate: float = 3e-3,
          verbose: int = 2) -> float:
    """Compile and fit ``model`` on ``data = ((x, y), (x_test, y_test))``.

    Args:
        model: an uncompiled Keras model ending in a softmax.
        data: train and test splits.
        epochs: training epochs.
        seed: seed of weights and data order.
        batch_size: batch size.
        learning_rate: Adam learning rate.
        verbose: Keras verbosity.

    Returns:
        The test accuracy.
    """
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = data
    tf.keras.utils.set_random_seed(seed)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=verbose, shuffle=True)
    return float(model.evaluate(x_test, y_test, verbose=0)[1])


def run_demo(settings: DemoSettings, output_dir: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Train, report, convert and C-simulate; print one line per stage.

    Args:
        settings: what to train.
        output_dir: the HLS project folder (must not exist unless ``settings.overwrite``).
        echo: where progress lines go.

    Returns:
        The measured :class:`DemoResult`; ``exit_code`` is 1 when C simulation is not bit-exact.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from . import datasets
    from .hls import demo_pipeline
    from .hls.convert import check_output_dir
    from .models import logits_model
    from .report import compression_report

    check_output_dir(output_dir, settings.overwrite)  # refuse before spending time on training
    start = time.time()
    echo(f"[1/4] training LeNet-5 (8x8) with {settings.method} on digits, {settings.n_epochs} epochs")
    data = datasets.load("digits")
    model = build_demo_model(settings.method)
    accuracy = train(model, data, settings.n_epochs, settings.seed, verbose=2 if not settings.quick else 0)
    echo(f"      test accuracy: {accuracy:.4f}")

    echo("[2/4] compression report")
    report = compression_report(model)
    echo(report.to_markdown())

    x_test = data[1][0][: settings.n_csim]
    echo(f"[3/4] converting to an SQNAP Vitis project in {output_dir}")
    echo(f"[4/4] C simulation on {len(x_test)} test images")
    summary = demo_pipeline(logits_model(model), x_test, Path(output_dir), overwrite=settings.overwrite)
    echo(f"C simulation: {summary.bit_exact}/{summary.total} outputs bit-exact with the emulator; "
         f"Keras argmax agreement {100 * summary.argmax_agreement:.1f}%")
    echo(f"done in {time.time() - start:.0f} s")
    ok = summary.bit_exact == summary.total
    return DemoResult(test_accuracy=accuracy, totals=dict(report.totals), csim=summary, exit_code=0 if ok else 1)
