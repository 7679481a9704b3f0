"""model.agreement: the fused session's answers against the exact reference, kept from another run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from model import agreement
from service.vision.kernels import MAX_PROBABILITY_DIFFERENCE


def test_the_fused_session_is_compared_with_a_kept_reference(
    shipped_model: Path, tiny_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = tmp_path / "reference.npy"
    agreement.main(
        [str(shipped_model), str(tiny_csv), "--faces", "40", "--unfused", "--save", str(reference)]
    )
    assert np.load(reference).shape == (40, 7)
    assert re.search(r"unfused session: \d+ of 40 faces right", capsys.readouterr().out)

    agreement.main([str(shipped_model), str(tiny_csv), "--faces", "40", "--against", str(reference)])
    printed = capsys.readouterr().out
    found = re.search(r"argmax agreement ([\d.]+), largest difference ([\d.]+)", printed)
    assert found is not None, printed
    # The shipped file's kernels are right on every CPU (tests/model/test_portable_int8.py), so here too;
    # a near-tie may go either way.
    assert float(found[1]) >= 0.95
    assert float(found[2]) <= MAX_PROBABILITY_DIFFERENCE


def test_a_reference_of_other_faces_is_refused(shipped_model: Path, tiny_csv: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference.npy"
    np.save(reference, np.zeros((10, 7), np.float32))
    with pytest.raises(SystemExit, match=r"holds \(10, 7\), not \(40, 7\)"):
        agreement.main([str(shipped_model), str(tiny_csv), "--faces", "40", "--against", str(reference)])


def test_missing_data_is_a_message_not_a_traceback(shipped_model: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="model.agreement: .*no such file"):
        agreement.main([str(shipped_model), str(tmp_path / "absent.csv")])
