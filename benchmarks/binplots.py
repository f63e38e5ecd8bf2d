"""Binary phase diagrams (pycalphad ``binplot``) of CU-NI and AL-CU: our liquid in two settings.

Usage: ``python benchmarks/binplots.py [TDB]`` writes, for each system,

* ``benchmarks/binplot-<A>-<B>.png`` — from the self-contained TDB (default the shipped
  ``tdb/mixcalphad-liquid.tdb``). Its solids are ideal SGTE solutions without compounds (see
  tdb/README.md): the liquid model against ideal solids, not an assessed phase diagram;
* ``benchmarks/binplot-<A>-<B>-cost507.png`` — side by side, COST507 as assessed and COST507 with its
  LIQUID interaction of that binary replaced by ours
  (:func:`mixcalphad.calphad.liquid_swap.replace_liquid`, the fit of the default model's
  prediction) written enthalpy-only (L_n = a_n) and as the default Gibbs energy with the learned
  excess entropy (L_n = a_n + b_n T). The default models were trained with these binaries'
  assessed data, so this shows the liquid model *in sample*; ``benchmarks/liquidus.py`` measures
  it on held-out binaries.

About 8 min on 2 cores (pycalphad compiles each phase once per diagram).
"""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pycalphad  # noqa: E402
from pycalphad import binplot  # noqa: E402
from pycalphad import variables as v  # noqa: E402
from pycalphad.core.utils import filter_phases, unpack_species  # noqa: E402

from mixcalphad.calphad.binary_fit import fit_binary  # noqa: E402
from mixcalphad.calphad.liquid_swap import replace_liquid  # noqa: E402
from mixcalphad.data.tdb_read import read_database  # noqa: E402
from mixcalphad.model.predictor import load_default_predictor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COST507 = Path(pycalphad.__file__).parent / "tests" / "databases" / "COST507.tdb"
SYSTEMS = (("CU", "NI", (1000, 2000, 10)), ("AL", "CU", (400, 1500, 10)))


def _phases(db, a: str, b: str) -> list[str]:
    return sorted(p for p in filter_phases(db, unpack_species(db, [a, b, "VA"])) if p != "GAS")


def _plot(db, a: str, b: str, T, ax, title: str) -> None:
    binplot(db, [a, b, "VA"], _phases(db, a, b), {v.X(b): (0, 1, 0.01), v.T: T, v.P: 101325, v.N: 1},
            plot_kwargs={"ax": ax})
    ax.set_title(title, fontsize=9)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tdb", nargs="?", type=Path, default=ROOT / "tdb" / "mixcalphad-liquid.tdb",
                        help="the self-contained TDB drawn in binplot-<A>-<B>.png (default: the shipped file)")
    return parser


def main() -> None:
    path = build_parser().parse_args().tdb
    start = time.perf_counter()
    own = read_database(path)
    cost = read_database(COST507)
    predictor = load_default_predictor()
    for a, b, T in SYSTEMS:
        fig = plt.figure(figsize=(6, 5))
        _plot(own, a, b, T, fig.gca(), f"{a}-{b} from {path.name} (ideal solids)")
        out = ROOT / "benchmarks" / f"binplot-{a}-{b}.png"
        fig.savefig(out, dpi=100)
        plt.close(fig)
        print(f"wrote {out} ({time.perf_counter() - start:.0f} s)", flush=True)

        fig, axes = plt.subplots(1, 3, figsize=(17, 5), sharey=True)
        _plot(cost, a, b, T, axes[0], f"{a}-{b}: COST507 as assessed")
        for ax, rule in zip(axes[1:], ("enthalpy", "learned")):
            fit = fit_binary(a, b, predictor=predictor, temperature_model=rule)
            b_n = fit.temperature_model.b_coefficients(fit.fit.coefficients)
            _plot(replace_liquid(cost, {fit.system: fit}), a, b, T, ax,
                  f"COST507 solids + our liquid, {rule}\n"
                  f"a = {', '.join(f'{c / 1000:.1f}' for c in fit.fit.coefficients)} kJ/mol; "
                  f"b = {', '.join(f'{c:.2f}' for c in b_n)} J/mol/K")
            print(f"{a}-{b} {rule}: a_n {[round(c) for c in fit.fit.coefficients]} J/mol, "
                  f"b_n {[round(float(c), 3) for c in b_n]} J/mol/K", flush=True)
        out = ROOT / "benchmarks" / f"binplot-{a}-{b}-cost507.png"
        fig.tight_layout()
        fig.savefig(out, dpi=100)
        plt.close(fig)
        print(f"wrote {out} ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
