"""Miedema's liquid model against the default ΔH_mix dataset: RMSE and MAE in kJ/mol.

Prints one table against the assessed data (harvested TDBs + the extra assessed table), overall and
per Miedema class, and one against the founding paper's 29 AIMD values, overall and per refractory
element — for the default model and each documented option.

Run: ``python benchmarks/miedema_baseline.py``
"""
from __future__ import annotations

import argparse
import time

import pandas as pd

from mixcalphad.data.corpus import build_dataset
from mixcalphad.model.evaluation import miedema_baseline

OPTIONS = {
    "default": {},
    "volume correction": {"volume_correction": True},
    "Ca/Sr/Ba transition": {"alkaline_earth_transition": True},
    "Si/Ge H_trans": {"transformation": ("SI", "GE")},
}


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script (no options)."""
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main() -> None:
    build_parser().parse_args()
    start = time.perf_counter()
    build = build_dataset(progress=False)
    print(f"dataset built in {time.perf_counter() - start:.1f} s: {build.counts()}")
    pd.set_option("display.width", 160)
    for label, options in OPTIONS.items():
        report = miedema_baseline(build.observations, **options)
        print(f"\n=== Miedema ({label}) vs assessed ΔH_mix, kJ/mol ===")
        print(report.assessed.to_string(index=False, float_format="{:.2f}".format))
        print(f"\n=== Miedema ({label}) vs AIMD (Bizot 2026), kJ/mol ===")
        print(report.aimd.to_string(index=False, float_format="{:.2f}".format))
        if label == "default":
            print(f"\nsystems without Miedema parameters ({len(report.left_out)}): {', '.join(report.left_out)}")


if __name__ == "__main__":
    main()
