"""Train the default ΔH_mix and excess-entropy models on the embedded default data; write them as package data.

Writes ``src/mixcalphad/data/default_model.json.gz`` and its SHA-256 beside it, and
``src/mixcalphad/data/default_entropy_model.json`` (the :data:`~mixcalphad.model.entropy.DEFAULT_FORM`
excess-entropy model). Deterministic:
the same data, seed and library versions (LightGBM, scikit-learn) give the same file. Run after any
change of the default data or of the model: ``python scripts/build_default_model.py``.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from mixcalphad._io import write_text
from mixcalphad.data.corpus import build_dataset
from mixcalphad.model.entropy import DEFAULT_ENTROPY_MODEL, DEFAULT_FORM, ExcessEntropyModel
from mixcalphad.model.regressor import DEFAULT_MODEL_FILE, HMixRegressor

DATA = Path(__file__).resolve().parents[1] / "src" / "mixcalphad" / "data"


def main() -> None:
    start = time.perf_counter()
    observations = build_dataset(progress=False).observations
    built = time.perf_counter()
    model = HMixRegressor(random_state=0).fit(observations)
    trained = time.perf_counter()
    path = model.save(DATA / DEFAULT_MODEL_FILE, force=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    write_text(path.with_name(DEFAULT_MODEL_FILE + ".sha256"), f"{digest}  {DEFAULT_MODEL_FILE}\n")
    info = model.describe()
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, sha256 {digest[:12]}): {info['n_systems']} systems, "
          f"{info['n_curves']} curves, {info['n_points']} points; data {built - start:.0f} s, training "
          f"{trained - built:.0f} s; inner grouped OOF RMSE {info['inner_rmse_J'] / 1000:.2f} kJ/mol")
    entropy = ExcessEntropyModel(form=DEFAULT_FORM).fit(observations)
    target = write_text(DATA / DEFAULT_ENTROPY_MODEL, json.dumps(entropy.to_dict(), indent=1) + "\n", overwrite=True)
    print(f"wrote {target}: {entropy.describe()}")


if __name__ == "__main__":
    main()
