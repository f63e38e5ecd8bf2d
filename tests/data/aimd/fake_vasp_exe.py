"""A fake VASP executable: run in a prepared folder, it writes the designed outputs of
``make_fixtures.fake_vasp`` (vasprun.xml, OUTCAR, OSZICAR, CONTCAR) for the folder's INCAR/POSCAR.

Usage: ``python fake_vasp_exe.py [--sigma-p KBAR] [--files vasprun.xml,OUTCAR,OSZICAR]`` in the folder.
The tests hand it to the jobflow workflow as ``vasp_cmd``, the way a cluster runs ``srun vasp_gam``.
"""
import argparse
import dataclasses
import importlib.util
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sigma-p", type=float, default=4.0)
    parser.add_argument("--files", default="vasprun.xml,OUTCAR,OSZICAR")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("fixtures", Path(__file__).with_name("make_fixtures.py"))
    fx = importlib.util.module_from_spec(spec)
    sys.modules["fixtures"] = fx
    spec.loader.exec_module(fx)
    model = dataclasses.replace(fx.Model(), sigma_p=args.sigma_p)
    fx.fake_vasp(Path.cwd(), model, files=tuple(args.files.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
