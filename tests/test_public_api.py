from __future__ import annotations

import subprocess
import sys

import stance


def test_public_api_all_sorted_and_resolvable():
    assert stance.__all__ == sorted(stance.__all__)
    for name in stance.__all__:
        assert getattr(stance, name) is not None, name


def test_public_api_import_is_light():
    code = "import sys, stance; print(sorted(m for m in ('spacy', 'sklearn', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
