"""SLURM array scripts and job lists of a prepared runs folder.

``slurm_volume.sh`` and ``slurm_production.sh`` run the folders listed in ``volume_jobs.txt`` and
``production_jobs.txt`` (one per line, relative to the runs folder) as a SLURM array. The rank count
of ``#SBATCH --ntasks-per-node`` is the one the INCARs' NCORE/KPAR/NBANDS were made for
(:func:`mixcalphad.aimd.incar.parallel_tags`); change both together (``aimd prepare --ranks``).

Production restarts (wall-time kills are normal for 10 ps of AIMD): when the folder already holds
output, the script

1. fails loudly (exit 1, message on stderr, nothing moved) if there is no non-empty CONTCAR to
   continue from;
2. moves the earlier part's files to ``chunk_NN/`` and copies its CONTCAR (positions *and*
   velocities) to POSCAR;
3. sets NSW to what is left: the total written at preparation (``# mixcalphad NSW_TOTAL = n`` in
   INCAR) minus the steps already in ``chunk_*/OSZICAR`` — a restart continues, it does not repeat
   the full run; with nothing left it exits 0 without starting VASP.

The reader concatenates ``chunk_*`` and the folder's own output (:mod:`.vasp_outputs`).
"""
from __future__ import annotations

import os
from pathlib import Path

from mixcalphad._io import write_text
from mixcalphad.aimd.incar import DEFAULT_RANKS

#: The INCAR comment that carries the production's total NSW through restarts.
NSW_TOTAL_MARK = "# mixcalphad NSW_TOTAL ="

_SLURM = """#!/bin/bash
# SLURM array over the folders listed in {jobs} (one per line), written by mixcalphad.
# Submit with:  sbatch --array=1-$(wc -l < {jobs}) {script}
# The INCARs' NCORE/KPAR/NBANDS assume {ranks} MPI ranks: keep --ntasks-per-node at {ranks}, or prepare
# again with 'mixcalphad aimd prepare --ranks N'. VASP_CMD defaults to the Gamma-only build.
#SBATCH --job-name=mixcalphad-{stage}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node={ranks}
#SBATCH --time={time}
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "${{SLURM_SUBMIT_DIR:-.}}"
dir=$(sed -n "${{SLURM_ARRAY_TASK_ID}}p" {jobs})
cd "$dir"
{restart}${{VASP_CMD:-srun vasp_gam}} > vasp.out 2>&1
"""
_RESTART = """# restart in chunks: continue from CONTCAR (positions and velocities) with the steps that are left
if [ -s vasprun.xml ] || [ -s OSZICAR ] || [ -s OUTCAR ]; then
  if [ ! -s CONTCAR ]; then
    echo "error: $dir holds output of an earlier part but no CONTCAR to continue from; nothing moved" >&2
    exit 1
  fi
  n=$(find . -maxdepth 1 -type d -name 'chunk_*' | wc -l); c=$(printf 'chunk_%02d' $((n + 1))); mkdir "$c"
  for f in vasprun.xml OUTCAR OSZICAR XDATCAR CONTCAR vasp.out; do
    if [ -e "$f" ]; then mv "$f" "$c/"; fi
  done
  cp INCAR "$c/INCAR"
  cp "$c/CONTCAR" POSCAR
fi
total=$(sed -n 's/^{mark} *\\([0-9][0-9]*\\).*/\\1/p' INCAR)
if [ -z "$total" ]; then echo "error: $dir/INCAR has no '{mark}' line" >&2; exit 1; fi
done_steps=$( (cat chunk_*/OSZICAR 2>/dev/null || true) | grep -c ' T= ' || true)
left=$((total - done_steps))
if [ "$left" -le 0 ]; then echo "$dir: all $total steps done"; exit 0; fi
sed -i "s/^NSW *=.*/NSW    = $left/" INCAR
"""


def write_scheduler_files(out: Path, *, ranks: int = DEFAULT_RANKS) -> dict[str, Path]:
    """Write the SLURM array templates (volume stages and production) into ``out``."""
    files = {}
    for stage, time, restart in (("volume", "12:00:00", ""),
                                 ("production", "48:00:00", _RESTART.replace("{mark}", NSW_TOTAL_MARK))):
        jobs, script = f"{stage}_jobs.txt", f"slurm_{stage}.sh"
        files[stage] = write_text(out / script, _SLURM.format(jobs=jobs, script=script, stage=stage, time=time,
                                                              restart=restart, ranks=int(ranks)))
        os.chmod(files[stage], 0o755)
    return files


def write_job_lists(out: Path, volume: list[str], production: list[str]) -> None:
    """Folders still to run, relative to ``out``, one per line."""
    write_text(out / "volume_jobs.txt", "".join(f"{p}\n" for p in volume))
    write_text(out / "production_jobs.txt", "".join(f"{p}\n" for p in production))
