"""Tests of keras_wc.datasets: bundled loaders, fixed splits, npz validation, offline errors."""

import gzip
import urllib.error

import numpy as np
import pytest

from keras_wc import datasets


@pytest.fixture(scope="module")
def digits_splits():
    return datasets.load("digits")


@pytest.fixture(scope="module")
def mnist5k():
    return datasets.load("mnist5k")


def _check_images(x, shape):
    assert x.dtype == np.float32
    assert x.shape[1:] == shape
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_digits_shapes_range_and_stratification(digits_splits):
    (x_train, y_train), (x_test, y_test) = digits_splits
    assert x_train.shape == (1437, 8, 8, 1) and x_test.shape == (360, 8, 8, 1)
    _check_images(x_train, (8, 8, 1))
    _check_images(x_test, (8, 8, 1))
    assert x_train.max() == 1.0  # 16/16: the full range is used
    assert y_train.dtype == np.int64 and y_train.shape == (1437,)
    # stratified: every class's share of the test split is within one image of 360/1797
    from sklearn.datasets import load_digits
    totals = np.bincount(load_digits().target)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - totals * 360 / 1797) < 1.0)
    assert np.array_equal(np.bincount(y_train) + np.bincount(y_test), totals)


def test_digits_split_is_the_original_data_without_overlap(digits_splits):
    from sklearn.datasets import load_digits
    (x_train, _), (x_test, _) = digits_splits
    original = {row.tobytes() for row in (load_digits().images / 16.0).astype(np.float32)}
    rows = [x[..., 0].tobytes() for x in np.concatenate([x_train, x_test])]
    assert set(rows) == original


def test_splits_are_deterministic(digits_splits):
    (x_train, y_train), (x_test, y_test) = datasets.load("digits")
    assert np.array_equal(x_train, digits_splits[0][0]) and np.array_equal(y_train, digits_splits[0][1])
    assert np.array_equal(x_test, digits_splits[1][0]) and np.array_equal(y_test, digits_splits[1][1])


def test_split_argument_selects_one_split(digits_splits):
    x, y = datasets.load("digits", split="test")
    assert np.array_equal(x, digits_splits[1][0]) and np.array_equal(y, digits_splits[1][1])
    x, y = datasets.load("digits", split="train")
    assert np.array_equal(y, digits_splits[0][1])
    with pytest.raises(ValueError, match=r"split='val': expected one of \[None, 'train', 'test'\]"):
        datasets.load("digits", split="val")


def test_mnist5k_shapes_and_balanced_split(mnist5k):
    (x_train, y_train), (x_test, y_test) = mnist5k
    assert x_train.shape == (4000, 28, 28, 1) and x_test.shape == (1000, 28, 28, 1)
    _check_images(x_train, (28, 28, 1))
    assert x_train.max() == 1.0
    assert np.array_equal(np.bincount(y_test), np.full(10, 100))  # 500 per class in the source
    assert np.array_equal(np.bincount(y_train), np.full(10, 400))
    (_, y_again), _ = datasets.load("mnist5k")
    assert np.array_equal(y_again, y_train)


def test_info_matches_the_loaded_data(digits_splits, mnist5k):
    for name, data in (("digits", digits_splits), ("mnist5k", mnist5k)):
        meta = datasets.info(name)
        (x_train, y_train), (x_test, _) = data
        assert (meta.train_size, meta.test_size, meta.shape) == (len(x_train), len(x_test), x_train.shape[1:])
        assert meta.num_classes == len(np.unique(y_train)) and meta.bundled
    assert datasets.info("cifar100").num_classes == 100 and not datasets.info("cifar10").bundled


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"dataset 'mnist6k': unknown; expected one of \['digits', 'mnist5k', "
                                         r"'mnist', 'fashion_mnist', 'cifar10', 'cifar100'\] or 'npz:PATH'"):
        datasets.load("mnist6k")


def test_train_val_split_is_stratified_and_deterministic(digits_splits):
    (x, y), _ = digits_splits
    (x_fit, y_fit), (x_val, y_val) = datasets.train_val_split(x, y, 0.2, seed=3)
    assert len(x_val) == 288 and len(x_fit) == 1437 - 288
    assert np.all(np.abs(np.bincount(y_val) - np.bincount(y) * 0.2) < 1.0)
    (_, _), (x_val2, _) = datasets.train_val_split(x, y, 0.2, seed=3)
    assert np.array_equal(x_val, x_val2)
    (_, _), (x_val3, _) = datasets.train_val_split(x, y, 0.2, seed=4)
    assert not np.array_equal(x_val, x_val3)
    with pytest.raises(ValueError, match=r"fraction=1.0: allowed range is \(0, 1\)"):
        datasets.train_val_split(x, y, 1.0)


# -- npz ---------------------------------------------------------------------------------
def _write_npz(path, **overrides):
    arrays = {"x_train": np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 4, 4),
              "y_train": np.array([0, 1, 2, 0, 1, 2]),
              "x_test": np.full((3, 4, 4), 255, np.uint8),
              "y_test": np.array([[2], [1], [0]], np.uint8)}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return f"npz:{path}"


def test_npz_uint8_is_scaled_and_gets_a_channel_axis(tmp_path):
    name = _write_npz(tmp_path / "ok.npz")
    (x_train, y_train), (x_test, y_test) = datasets.load(name)
    assert x_train.shape == (6, 4, 4, 1) and x_train.dtype == np.float32
    assert x_train[0, 0, 1, 0] == np.float32(1 / 255) and np.all(x_test == 1.0)
    assert y_train.dtype == np.int64 and np.array_equal(y_test, [2, 1, 0])
    assert datasets.info(name).num_classes == 3


def test_npz_float_in_unit_range_is_kept(tmp_path):
    images = np.linspace(0, 1, 6 * 4 * 4 * 3, dtype=np.float64).reshape(6, 4, 4, 3)
    (x_train, _), _ = datasets.load(_write_npz(tmp_path / "f.npz", x_train=images,
                                               x_test=images[:3].astype(np.float32)))
    assert x_train.dtype == np.float32 and np.allclose(x_train, images)


@pytest.mark.parametrize("overrides, message", [
    ({"y_test": None}, r"missing array\(s\) \['y_test'\]; expected keys"),
    ({"x_train": np.zeros((6, 16), np.uint8)},
     r"x_train has shape \(6, 16\); expected \(N, H, W\) or \(N, H, W, C\)"),
    ({"x_test": np.zeros((3, 5, 4), np.uint8)}, r"x_train images \(4, 4, 1\) and x_test images \(5, 4, 1\)"),
    ({"y_train": np.array([0, 1, 2])}, r"y_train has 3 labels but its images have 6; lengths must match"),
    ({"y_train": np.zeros((6, 2), np.int64)}, r"y_train has shape \(6, 2\); expected \(6,\) integer class labels"),
    ({"y_train": np.array([0.0, 1, 2, 0, 1, 2])}, r"y_train has dtype float64; labels must be integers"),
    ({"y_test": np.array([0, -1, 2])}, r"y_test holds negative label -1"),
    ({"x_train": np.full((6, 4, 4), np.nan)}, r"x_train holds NaN or Inf values"),
    ({"x_train": np.full((6, 4, 4), 3.0)},
     r"x_train is float with values in \[3, 3\]; float images must lie in \[0, 1\]"),
    ({"x_test": np.zeros((3, 4, 4), np.int32)},
     r"x_test has dtype int32; expected uint8 \(0..255\) or float in \[0, 1\]"),
])
def test_bad_npz_is_rejected_with_a_clear_message(tmp_path, overrides, message):
    name = _write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(ValueError, match=message):
        datasets.load(name)


def test_npz_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"nope.npz'?: no such file"):
        datasets.load(f"npz:{tmp_path / 'nope.npz'}")


# -- tf.keras.datasets offline -------------------------------------------------------------
@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """An empty home folder (so an empty Keras cache) and no network."""
    import keras.src.utils.data_utils as data_utils

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(data_utils, "urlretrieve", no_network)
    (tmp_path / ".keras" / "datasets").mkdir(parents=True)
    return tmp_path / ".keras" / "datasets"


@pytest.mark.parametrize("name, file, origin", [
    ("mnist", "mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
    ("cifar10", "cifar-10-batches-py.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
])
def test_offline_keras_dataset_names_the_file_and_where_to_put_it(offline_home, name, file, origin):
    with pytest.raises(datasets.DatasetUnavailableError) as caught:
        datasets.load(name)
    message = str(caught.value)
    assert f"{origin}  ->  {offline_home / file}  (missing)" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_offline_corrupt_cache_file_is_reported(offline_home):
    (offline_home / "mnist.npz").write_bytes(b"not the real file")
    expected = r"mnist.npz  \(was present but failed Keras' hash check\)"
    with pytest.raises(datasets.DatasetUnavailableError, match=expected):
        datasets.load("mnist")


def _idx_gz(path, header: bytes, payload: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as handle:
        handle.write(header + payload.astype(np.uint8).tobytes())


def test_cached_keras_files_load_without_network(offline_home):
    folder = offline_home / "fashion-mnist"
    for prefix, count in (("train", 4), ("t10k", 2)):
        _idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", bytes(8), np.arange(count))
        _idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", bytes(16), np.full((count, 28, 28), 51))
    (x_train, y_train), (x_test, y_test) = datasets.load("fashion_mnist")
    assert x_train.shape == (4, 28, 28, 1) and x_test.shape == (2, 28, 28, 1)
    assert np.all(x_train == np.float32(51 / 255)) and np.array_equal(y_train, [0, 1, 2, 3])
    assert y_test.dtype == np.int64
