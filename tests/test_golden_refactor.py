"""Issue 21's guard: the refactored estimators give bit-identical outputs to the code before it.

The reference arrays were written by ``tools/golden_refactor.py write`` on the code before the
refactor; this test (and the file) go once the refactor has landed.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import golden_refactor  # noqa: E402


def test_outputs_bit_identical_to_before_the_refactor():
    saved = np.load(golden_refactor.PATH)
    now = golden_refactor.outputs()
    assert sorted(now) == sorted(saved.files)
    different = [k for k in saved.files if not np.array_equal(saved[k], now[k])]
    assert not different, f"outputs changed: {different}"
