"""The integer datapath of a Keras/QKeras model: what the emulator and the HLS writer compute.

See ``docs/datapath.md`` for the contract. Entry point: :func:`describe_model`.
"""

from .describe import (AVG_POOL_EXTRA_BITS, BIAS_EXTRA_BITS, BN_MULTIPLIER_BITS, describe_model, fold_batchnorm,
                       supported_classes)
from .formats import ActivationQuant, format_for, format_text, parse_format
from .geometry import Geometry
from .specs import (AffineSpec, CompressedSpec, IdentitySpec, InputSpec, LayerSpec, MergeSpec, PadSpec, PoolSpec,
                    QuantizeSpec, ReluSpec, ReshapeSpec, Scaling)

__all__ = ["AVG_POOL_EXTRA_BITS", "BIAS_EXTRA_BITS", "ActivationQuant", "AffineSpec", "BN_MULTIPLIER_BITS",
           "CompressedSpec", "Geometry", "IdentitySpec", "InputSpec", "LayerSpec", "MergeSpec", "PadSpec", "PoolSpec",
           "QuantizeSpec", "ReluSpec", "ReshapeSpec", "Scaling", "describe_model", "fold_batchnorm", "format_for",
           "format_text", "parse_format", "supported_classes"]
