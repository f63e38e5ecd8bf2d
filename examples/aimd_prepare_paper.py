"""Prepare VASP run folders for the 29 binaries of the founding paper's Table 1 and check them.

Shows the run plan with shared pure-element references (fewer than 3 × 29 runs), the temperature
rule against the paper's temperatures, and the INCAR check of every written input; checks that each
pure reference is written once per (element, T) the alloys need and that no INCAR has a problem.

Run: ``python examples/aimd_prepare_paper.py [OUT]`` (default: a temporary folder).
"""
import sys
import tempfile
from pathlib import Path

from mixcalphad.aimd import RunSettings, check_incar, paper_plan, prepare_vasp_runs, read_manifest

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "runs"
plan = paper_plan()                                   # system + the paper's T_K
rule = prepare_vasp_runs(list(plan["system"]), out)   # the temperature rule instead of the paper's T
manifest = read_manifest(out)
print(f"{len(rule.plan.binaries)} binaries → {rule.plan.n_runs} runs "
      f"(3 × 29 = {rule.plan.n_runs_unshared} without sharing; {rule.plan.runs_saved} saved) in {out}")
# one alloy run per binary plus one run per distinct (element, T): each pure reference written once
alloys = [r for r in manifest["runs"].values() if len(r["composition"]) == 2]
pures = {(next(iter(r["composition"])), r["settings"]["T_K"]) for r in manifest["runs"].values()
         if len(r["composition"]) == 1}
needed = {(el, r["settings"]["T_K"]) for r in alloys for el in r["composition"]}
assert len(alloys) == len(rule.plan.binaries) == 29 and pures == needed
assert rule.plan.n_runs == len(manifest["runs"]) == 29 + len(pures) and rule.plan.n_runs_unshared == 87
assert rule.plan.runs_saved == 87 - rule.plan.n_runs
paper_T = dict(zip(plan["system"], plan["T_K"]))
for job in rule.plan.binaries:
    if job.T_K != paper_T[job.system]:
        print(f"  {job.system}: rule {job.T_K:.0f} K, paper {paper_T[job.system]:.0f} K ({job.temperature.rule})")
problems = 0
for rid, meta in manifest["runs"].items():
    settings = RunSettings.from_dict(meta["settings"])
    for incar in (out / rid).rglob("INCAR"):
        problems += len(check_incar(incar, settings))
print(f"INCAR check: {problems} problem(s) in {sum(1 for _ in out.rglob('INCAR'))} INCAR files")
assert problems == 0
print(f"POTCAR written: {rule.potcar_written} (set VASP_PP_PATH to your PAW library to write them)")
