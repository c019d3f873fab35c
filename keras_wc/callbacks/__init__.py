"""Keras callbacks that train with compression (see ``docs/training.md``).

All are plain ``tf.keras.callbacks.Callback`` objects for ``model.fit(callbacks=[...])``;
they change quantizer controls held in ``tf.Variable``s, so no schedule retraces the model.
"""

from .base import CompressionCallback, check_steps
from .freeze import FreezeAssignments
from .logger import CompressionLogger
from .precision import PrecisionScaling, accuracy, kernel_compression, scale_precision
from .pruning import GradualPruning, schedule_from_config
from .qr_schedule import QRSchedule

__all__ = ["CompressionCallback", "CompressionLogger", "FreezeAssignments", "GradualPruning", "PrecisionScaling",
           "QRSchedule", "accuracy", "check_steps", "kernel_compression", "scale_precision", "schedule_from_config"]
