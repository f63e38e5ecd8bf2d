"""Binary phase diagrams (pycalphad ``binplot``) of CU-NI and AL-CU from the shipped self-contained TDB.

Usage: ``python benchmarks/binplots.py [TDB]`` writes ``benchmarks/binplot-<A>-<B>.png``. The solids
of the self-contained file are ideal SGTE solutions without compounds (see tdb/README.md): the
diagrams show the liquid model against ideal solids, not assessed phase diagrams.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from pycalphad import binplot  # noqa: E402
from pycalphad import variables as v  # noqa: E402
from pycalphad.core.utils import filter_phases, unpack_species  # noqa: E402

from mixcalphad.data.tdb_read import read_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tdb" / "mixcalphad-liquid.tdb"
    db = read_database(path)
    for a, b, T in (("CU", "NI", (1000, 2000, 10)), ("AL", "CU", (400, 1500, 10))):
        phases = sorted(filter_phases(db, unpack_species(db, [a, b])))
        fig = plt.figure(figsize=(6, 5))
        ax = fig.gca()
        binplot(db, [a, b], phases, {v.X(b): (0, 1, 0.01), v.T: T, v.P: 101325, v.N: 1}, plot_kwargs={"ax": ax})
        ax.set_title(f"{a}-{b} from {path.name} (ideal solids)")
        out = ROOT / "benchmarks" / f"binplot-{a}-{b}.png"
        fig.savefig(out, dpi=100)
        print(f"wrote {out} (phases {', '.join(phases)})")


if __name__ == "__main__":
    main()
