"""The README's Python example runs as written and its C simulation is bit-exact."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "README.md has no python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102 - our own README
    logs = namespace["history"].history
    assert logs["accuracy"][-1] > 0.8
    assert logs["compression_vs_float32"][-1] > 4  # CompressionLogger's column, seen by Keras' History
