"""Does a binary's own data improve its estimate? Leave-one-curve-out test of the per-binary posterior.

For every binary of the default corpus with at least two curves (independent sources: several
assessments, or an assessment and an AIMD value), each curve in turn is held out; the posterior
(:mod:`mixcalphad.model.posterior`) conditioned on the binary's *other* curves predicts it, next to
the prior (the model alone), Miedema, and the plain mean of the other curves. Reported: RMS error
over the held-out points (kJ/mol, each binary weighted equally) with a 95 % bootstrap over binaries,
and the coverage of the ±1.96σ band, σ² = σ_posterior² + σ_curve² (the held-out curve's own σ: two
independent sources of one binary disagree by both).

Caveat, stated in the output: the shipped prior was trained on these binaries (all their curves), so
the prior's own error here is in-sample and optimistic; the posterior's gain over it is therefore a
lower bound of its gain on a binary the model did not see.

Run: ``python benchmarks/posterior.py`` (~1 min).
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from mixcalphad.data.corpus import build_dataset
from mixcalphad.data.evidence import EVIDENCE_KEYS, evidence_points
from mixcalphad.data.schema import OBSERVED_KINDS
from mixcalphad.model.posterior import ConditionedPredictor
from mixcalphad.model.predictor import MiedemaPredictor, load_default_model


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples over binaries")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def held_out_errors(observations: pd.DataFrame, model) -> pd.DataFrame:
    """One row per held-out evidence point: errors of posterior, prior, Miedema, mean of the others (J/mol)."""
    obs = observations[observations["kind"].isin(OBSERVED_KINDS)]
    points = evidence_points(obs)
    known = set(ConditionedPredictor(model, obs).conditioned_systems())
    points = points[points["system"].isin(known)]
    rows = []
    miedema = MiedemaPredictor()
    for system, group in points.groupby("system"):
        keys = list(group[list(EVIDENCE_KEYS[1:])].drop_duplicates().itertuples(index=False))
        if len(keys) < 2:
            continue
        a, b = system.split("-")
        system_obs = obs[obs["system"] == system]
        for kind, source in keys:
            held = group[(group["kind"] == kind) & (group["source"] == source)]
            others = system_obs[~((system_obs["kind"] == kind) & (system_obs["source"].astype(str) == source))]
            post = ConditionedPredictor(model, others)
            x = held["x_B"].to_numpy(float)
            mean, sd = post.predict(a, b, x, return_std=True)
            prior = model.predict(a, b, x)
            other_points = evidence_points(others)
            pooled = (other_points.groupby("x_B")["HM_MIX_J"].mean()
                      .reindex(np.round(x, 9), method="nearest").to_numpy())
            rows.append(pd.DataFrame({
                "system": system, "held_out": f"{kind}:{source}", "x_B": x, "truth_J": held["HM_MIX_J"].to_numpy(float),
                "posterior_J": mean, "sigma_J": np.hypot(sd, held["sigma_J"].to_numpy(float)), "prior_J": prior,
                "miedema_J": miedema.predict(a, b, x), "others_mean_J": pooled}))
    return pd.concat(rows, ignore_index=True)


def system_rms(frame: pd.DataFrame, column: str) -> pd.Series:
    """RMS error of ``column`` per binary (J/mol)."""
    err = (frame[column] - frame["truth_J"]) ** 2
    return err.groupby(frame["system"]).mean() ** 0.5


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    build = build_dataset(progress=False)
    frame = held_out_errors(build.observations, load_default_model())
    rng = np.random.default_rng(args.seed)
    systems = frame["system"].unique()
    columns = {"posterior": "posterior_J", "prior (model alone)": "prior_J", "Miedema": "miedema_J",
               "mean of the other curves": "others_mean_J"}
    per_system = pd.DataFrame({name: system_rms(frame, col) for name, col in columns.items()})
    draws = rng.integers(0, len(systems), size=(args.bootstrap, len(systems)))
    print(f"{len(systems)} binaries with ≥ 2 curves, {frame.groupby(['system', 'held_out']).ngroups} curves held out "
          f"in turn, {len(frame)} points; "
          "RMS error per binary, averaged over binaries, kJ/mol [95 % bootstrap over binaries]")
    print("| estimate of the held-out curve | mean RMS (kJ/mol) | 95 % interval | paired vs posterior |")
    print("|---|---|---|---|")
    base = per_system["posterior"].to_numpy()
    for name in columns:
        values = per_system[name].to_numpy()
        boot = values[draws].mean(axis=1) / 1000
        diff = (values - base)[draws].mean(axis=1) / 1000
        paired = "—" if name == "posterior" else f"{(values - base).mean() / 1000:+.2f} [{np.quantile(diff, 0.025):+.2f}, {np.quantile(diff, 0.975):+.2f}]"
        print(f"| {name} | {values.mean() / 1000:.2f} | [{np.quantile(boot, 0.025):.2f}, {np.quantile(boot, 0.975):.2f}] | {paired} |")
    inside = np.abs(frame["posterior_J"] - frame["truth_J"]) <= 1.96 * frame["sigma_J"]
    print(f"coverage of posterior ± 1.96 σ (σ² = σ_posterior² + σ_held-out²): {inside.mean():.3f} of {len(frame)} points; "
          f"per binary median {inside.groupby(frame['system']).mean().median():.3f}")
    print("caveat: the prior was trained on every curve of these binaries (in-sample), so its error here is optimistic")


if __name__ == "__main__":
    main()
