"""One tiny array-API shim so that every decode formula is written once.

Each compression method writes its *decode* math (integer codes -> float32 weights) and
its grouping once, against :class:`ArrayOps`. The same function then runs on TensorFlow
tensors inside ``model.fit`` (the fake-quantized forward pass) and on numpy arrays in
``decode()``, the emulator and the HLS writer. Every operation used here is exact or a single
correctly rounded IEEE-754 float32 operation, so both back ends give bit-identical results.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import tensorflow as tf

_DTYPES = {"float32": (np.float32, tf.float32), "int32": (np.int32, tf.int32),
           "int64": (np.int64, tf.int64)}


class ArrayOps:
    """Operations shared by the numpy and TensorFlow back ends (see module docstring)."""

    name = "abstract"

    def cast(self, x: Any, dtype: str) -> Any:
        raise NotImplementedError

    def reshape(self, x: Any, shape: Sequence[int]) -> Any:
        raise NotImplementedError

    def transpose(self, x: Any, perm: Sequence[int]) -> Any:
        raise NotImplementedError

    def pad(self, x: Any, paddings: Sequence[Sequence[int]]) -> Any:
        raise NotImplementedError

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def take(self, table: Any, index: Any) -> Any:
        """Rows of ``table`` at integer ``index`` (a gather along axis 0)."""
        raise NotImplementedError

    def asarray(self, x: Any, dtype: str) -> Any:
        raise NotImplementedError

    def pow2(self, exponent: Any) -> Any:
        """Exact float32 ``2**exponent`` for integer exponents in [-126, 127]."""
        biased = self.cast(exponent, "int32") + 127
        return self._bitcast_to_float(biased * (1 << 23))

    def _bitcast_to_float(self, x: Any) -> Any:
        raise NotImplementedError


class NumpyOps(ArrayOps):
    """numpy back end."""

    name = "numpy"

    def cast(self, x, dtype):
        return np.asarray(x).astype(_DTYPES[dtype][0])

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, perm):
        return np.transpose(x, perm)

    def pad(self, x, paddings):
        return np.pad(x, paddings)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def take(self, table, index):
        return np.take(np.asarray(table), np.asarray(index), axis=0)

    def asarray(self, x, dtype):
        return np.asarray(x, dtype=_DTYPES[dtype][0])

    def _bitcast_to_float(self, x):
        return np.asarray(x, dtype=np.int32).view(np.float32)


class TensorFlowOps(ArrayOps):
    """TensorFlow back end (graph mode and eager)."""

    name = "tensorflow"

    def cast(self, x, dtype):
        return tf.cast(x, _DTYPES[dtype][1])

    def reshape(self, x, shape):
        return tf.reshape(x, shape)

    def transpose(self, x, perm):
        return tf.transpose(x, perm)

    def pad(self, x, paddings):
        return tf.pad(x, paddings)

    def where(self, cond, a, b):
        return tf.where(cond, a, b)

    def take(self, table, index):
        return tf.gather(table, index, axis=0)

    def asarray(self, x, dtype):
        return tf.convert_to_tensor(x, dtype=_DTYPES[dtype][1])

    def _bitcast_to_float(self, x):
        return tf.bitcast(tf.cast(x, tf.int32), tf.float32)


NP = NumpyOps()
TF = TensorFlowOps()
