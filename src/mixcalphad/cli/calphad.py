"""Handlers of ``fit``, ``write-tdb``, ``fill`` and ``espei-datasets``: Calphad output of the fits.

Every command fits binaries with :func:`mixcalphad.calphad.binary_fit.fit_binary`: observations from
the store (assessed, AIMD, user…; ``--store``, default ``$MIXCALPHAD_STORE`` or
``~/.mixcalphad/store.json``; ``--no-store`` to ignore it) condition the default model's prediction
of each binary (its posterior, :mod:`mixcalphad.model.posterior`; ``--no-model`` for observations
only), so every command — and ``predict`` — gives a binary the same estimate.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from mixcalphad.cli.common import add_json_option, add_store_option, check_outputs, print_json, print_table

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------- shared pieces
def _observations(args):
    """The observations of the store chosen by :func:`mixcalphad.cli.common.open_store`, or None
    with ``--no-store`` (predictions only)."""
    if getattr(args, "no_store", False):
        return None
    from mixcalphad.calphad.binary_fit import gap_reasons
    from mixcalphad.cli.common import open_store

    store = open_store(args)
    observations = store.observations()
    observations.attrs["gaps"] = gap_reasons(store.flags())  # binaries flagged immiscible
    if not getattr(args, "refit_assessed", False):
        observations.attrs["assessed_liquids"] = store.assessed_liquids()  # carried whole
    return observations


def _predictor(args):
    if getattr(args, "no_model", False):
        return None
    from mixcalphad.calphad import binary_fit

    return binary_fit.load_default_predictor()


def _temperature_model(args):
    """The temperature-model rule of ``--temperature-model`` (``--tau`` kept for ``kaptay``)."""
    from mixcalphad.calphad.excess_entropy import temperature_rule
    from mixcalphad.calphad.redlich_kister import kaptay

    name = getattr(args, "temperature_model", None)
    if args.tau is not None:
        if name != "kaptay":
            from mixcalphad.errors import MixcalphadError

            raise MixcalphadError("--tau applies only with --temperature-model kaptay (or write kaptay-<tau>)")
        return kaptay(args.tau)
    return temperature_rule(name)


def _elements(args) -> list[str]:
    from mixcalphad.chem.elements import get_element, supported_elements

    if getattr(args, "all", False):
        if args.elements:
            from mixcalphad.errors import MixcalphadError

            raise MixcalphadError("give --elements or --all, not both")
        return supported_elements()
    if not args.elements or len(set(e.upper() for e in args.elements)) < 2:
        from mixcalphad.errors import MixcalphadError

        raise MixcalphadError("give at least two elements with --elements (or --all)")
    return sorted({get_element(e).name for e in args.elements})


def _fit_options(args, observations=None) -> dict:
    """Options of :func:`~mixcalphad.calphad.binary_fit.fit_binaries`: the fit settings (order rule,
    temperature model, with which the convexity rule is checked), the binaries the store flags
    immiscible and the assessments it keeps whole."""
    from mixcalphad.calphad.binary_fit import FitSettings

    attrs = {} if observations is None else observations.attrs
    return {"settings": FitSettings(max_order=args.max_order, criterion=args.criterion,
                                    temperature_model=_temperature_model(args)),
            "gaps": attrs.get("gaps", {}), "assessed_liquids": attrs.get("assessed_liquids", {})}


def _source_note(args, observations) -> list[str]:
    notes = [f"command: mixcalphad {_command_line(args)}"]
    if observations is not None:
        notes.append(f"observations: store {args.store or 'default'} ({len(observations)} rows)")
    return notes


def _command_line(args) -> str:
    parts = [args.command]
    for name in ("user_tdb",):
        if getattr(args, name, None):
            parts.append(str(getattr(args, name)))
    if getattr(args, "all", False):
        parts.append("--all")
    if getattr(args, "elements", None):
        parts += ["--elements", *[e.upper() for e in args.elements]]
    for flag in ("no_model", "no_store", "refit_assessed"):
        if getattr(args, flag, False):
            parts.append("--" + flag.replace("_", "-"))
    parts += ["--temperature-model", args.temperature_model]
    return " ".join(parts)


def _stderr(message: str, args) -> None:
    if not getattr(args, "json", False):
        print(message, file=sys.stderr)


# ---------------------------------------------------------------------- fit
def cmd_fit(args) -> int:
    from mixcalphad.chem.binaries import system_name
    from mixcalphad.chem.elements import get_element
    from mixcalphad.calphad.binary_fit import fit_binary

    a, b = get_element(args.a).name, get_element(args.b).name
    observations = _observations(args)
    options = _fit_options(args, observations)
    gaps, assessed = options.pop("gaps"), options.pop("assessed_liquids")
    fit = fit_binary(a, b, predictor=_predictor(args), observations=observations,
                     gap=gaps.get(system_name(a, b), ""), assessed=assessed.get(system_name(a, b), ()), **options)
    T = float(args.T)
    gibbs = {"T_K": T, "S_ex_J_K": float(fit.excess_entropy([0.5], T)[0]),
             "G_ex_J": float(fit.excess_gibbs([0.5], T)[0]), "sigma_G_ex_J": fit.sigma_excess_gibbs(T),
             "sigma_S_ex_J_K": None if fit.temperature_model is None else fit.temperature_model.sigma_S_J_K}
    if args.json:
        print_json({**fit.to_dict(), "at_x_0.5": gibbs})
        return 0
    import numpy as np
    import pandas as pd

    err = np.sqrt(np.maximum(np.diag(np.asarray(fit.fit.covariance, dtype=float)), 0.0))
    print(f"{system_name(a, b)}: G_ex = x_A x_B sum L_n (x_A - x_B)^n for the sorted pair, J/mol of atoms")
    print(f"origin: {fit.origin}   sigma: {fit.sigma_J:.0f} J/mol   order: {fit.fit.order} "
          f"({fit.fit.criterion})   points: {fit.fit.n_points} ({fit.n_observed} observed, "
          f"{fit.n_predicted} predicted)   rms residual: {fit.fit.rms_J:.1f} J/mol")
    if fit.assessed is not None:
        print(f"assessment carried whole (TDBs get these L_n(T), J/mol): {fit.assessed.reference}")
        for n, intervals in fit.assessed.terms:
            print(f"  L{n}: " + "; ".join(f"{lo:g}-{hi:g} K: {text}" for lo, hi, text in intervals))
        print("enthalpy-only refit of its points, used for DH_mix below:")
    c = fit.convexity
    print(f"liquid G_mix {c.T_low_K:.0f}-{c.T_high_K:.0f} K: " + {
        "convex": "convex as fitted",
        "constrained": f"made convex by the constraint (RMS change {c.rms_change_J:.0f} J/mol)",
        "gap": f"spinodal kept: {c.gap_allowed}"}[c.describe()])
    print_table(pd.DataFrame({"term": [f"L{n}" for n in range(fit.fit.order + 1)],
                              "value_J": fit.fit.coefficients, "stderr_J": err}), "{:.1f}")
    x = np.round(np.arange(0.1, 0.91, 0.1), 2)
    print(f"\nDH_mix (J/mol) at x_{fit.pair[1]}: " + "  ".join(f"{xi:.1f}:{h:.0f}" for xi, h in zip(x, fit.evaluate(x))))
    if fit.assessed is None:
        tm = fit.temperature_model
        print(f"temperature model: {tm.describe()}")
        b = tm.b_coefficients(fit.fit.coefficients)
        print("b_n = -kappa*a_n (J/mol/K): " + "  ".join(f"b{n}:{v:.3f}" for n, v in enumerate(b)))
    sigma_S = gibbs["sigma_S_ex_J_K"]
    print(f"at x = 0.5, T = {T:g} K: S_ex = {gibbs['S_ex_J_K']:.2f}"
          + (f" +/- {sigma_S:.2f}" if sigma_S is not None else "")
          + f" J/mol/K, G_ex = {gibbs['G_ex_J']:.0f}"
          + (f" +/- {gibbs['sigma_G_ex_J']:.0f}" if np.isfinite(gibbs['sigma_G_ex_J']) else "") + " J/mol")
    print("sources: " + "; ".join(fit.sources))
    return 0


# ---------------------------------------------------------------------- write-tdb
def cmd_write_tdb(args) -> int:
    from mixcalphad.calphad.binary_fit import fit_binaries
    from mixcalphad.calphad.database import solids_description
    from mixcalphad.calphad.provenance import Provenance
    from mixcalphad.calphad.tdb_write import write_tdb

    elements = _elements(args)
    check_outputs(args.output, force=args.force)
    observations, predictor = _observations(args), _predictor(args)
    n = len(elements) * (len(elements) - 1) // 2
    _stderr(f"[1/2] fitting {n} binaries of {len(elements)} elements", args)
    fits = fit_binaries(elements, predictor=predictor, observations=observations, **_fit_options(args, observations))
    _stderr(f"[2/2] writing and re-reading {args.output}", args)
    provenance = Provenance.from_fits(fits, notes=(*_source_note(args, observations), solids_description(args.solids)))
    path = write_tdb(fits, args.output, force=args.force, provenance=provenance, solids=args.solids)
    origins: dict[str, int] = {}
    for fit in fits.values():
        origins[fit.origin] = origins.get(fit.origin, 0) + 1
    if args.json:
        print_json({"out": path, "elements": elements, "binaries": len(fits), "origins": origins,
                    "provenance": provenance.to_dict()})
        return 0
    print(f"wrote {path}: {len(fits)} binaries of {', '.join(elements)}")
    print("origins: " + ", ".join(f"{k} {v}" for k, v in sorted(origins.items())))
    print(f"model: {provenance.model}; temperature model: {provenance.temperature_model}")
    return 0


# ---------------------------------------------------------------------- fill
def cmd_fill(args) -> int:
    from mixcalphad.calphad.binary_fit import fit_binaries
    from mixcalphad.calphad.tdb_merge import fill_plan, merge_into_tdb

    check_outputs(args.output, args.report, force=args.force)
    plan = fill_plan(args.user_tdb, args.elements or ())
    fits = {}
    if plan.to_add:
        observations, predictor = _observations(args), _predictor(args)
        _stderr(f"[1/2] fitting {len(plan.to_add)} binaries missing from {args.user_tdb}", args)
        fits = fit_binaries(plan.to_add, predictor=predictor, observations=observations, **_fit_options(args, observations))
        notes = _source_note(args, observations)
    else:
        notes = _source_note(args, None)
    _stderr(f"[2/2] writing and re-reading {args.output}", args)
    report = merge_into_tdb(fits, args.user_tdb, args.output, elements=args.elements or (), force=args.force,
                            notes=notes)
    if args.report:
        report.to_csv(args.report, force=args.force)
    if args.json:
        print_json({**report.to_dict(), "report": args.report})
        return 0
    print(f"wrote {report.out_path}: {len(report.added)} binaries added to {report.user_path}"
          + (f", new elements {' '.join(report.new_elements)}" if report.new_elements else ""))
    table = report.to_dataframe()
    if len(table):
        print_table(table[["system", "status", "origin", "sigma_J", "order", "rms_J", "reason"]].fillna(""), "{:.1f}")
    if args.report:
        print(f"report: {args.report}")
    for line in report.solids:
        print(f"solid: {line}")
    return 0


# ---------------------------------------------------------------------- espei-datasets
def cmd_espei_datasets(args) -> int:
    from mixcalphad.calphad.binary_fit import fit_binaries
    from mixcalphad.calphad.espei_io import GENERATE_YAML, MCMC_YAML, export_espei

    binaries = args.binaries or None
    if binaries and not args.elements and not args.all:
        elements = sorted({e for b in binaries for e in b.upper().replace("_", "-").split("-")})
    else:
        elements = _elements(args)
    observations, predictor = _observations(args), _predictor(args)
    if args.seed_tdb:  # only the refined binaries need fits (their datasets); the seed has the rest
        fits = fit_binaries(binaries or elements, predictor=predictor, observations=observations,
                            **_fit_options(args, observations))
    else:
        fits = fit_binaries(elements, predictor=predictor, observations=observations,
                            **_fit_options(args, observations))
    export = export_espei(fits, args.output, force=args.force, tdb=not args.no_tdb, iterations=args.iterations,
                          notes=_source_note(args, observations), binaries=binaries, seed_tdb=args.seed_tdb)
    if args.json:
        print_json(export.to_dict())
        return 0
    print(f"wrote {len(export.datasets)} HM_MIX datasets for {len(fits)} binaries to {export.folder}")
    print(f"run: cd {export.folder} && espei --check-datasets datasets && espei --input {GENERATE_YAML}")
    if export.mcmc_yaml is not None:
        print(f"MCMC from our TDB ({len(export.symbols)} VV symbols): cd {export.folder} && espei --input {MCMC_YAML}")
    return 0


# ---------------------------------------------------------------------- registration
def _fit_arguments(parser):
    add_store_option(parser)
    parser.add_argument("--no-store", action="store_true", help="ignore the store: predictions only")
    parser.add_argument("--no-model", action="store_true",
                        help="observations only (no predictions): binaries without data fail")
    parser.add_argument("--refit-assessed", action="store_true",
                        help="refit assessed binaries from their enthalpies instead of carrying the assessment's "
                             "L_n(T) whole (the default, which keeps its excess entropy)")
    parser.add_argument("--max-order", type=int, default=3, help="highest Redlich-Kister order (default 3)")
    parser.add_argument("--criterion", choices=("aicc", "bic", "fixed"), default="aicc",
                        help="how the order is chosen (default aicc)")
    parser.add_argument("--temperature-model", default="learned", metavar="NAME",
                        help="the liquid's excess entropy, L_n = a_n + b_n*T with b_n = -kappa*a_n: 'learned' "
                             "(default: kappa of the pair from the model learned on assessed liquids), "
                             "'enthalpy' (b_n = 0), 'kaptay' or 'kaptay-<tau_K>' (kappa = 1/tau, tau 3000 K "
                             "by default), 'kaptay-<k>Tm' (tau = k * mean melting point of the pair)")
    parser.add_argument("--tau", type=float, default=None, metavar="K",
                        help="tau of --temperature-model kaptay in K (default 3000)")
    return add_json_option(parser)


def _element_arguments(parser):
    parser.add_argument("--elements", nargs="+", default=[], metavar="EL", help="elements (every binary among them)")
    parser.add_argument("--all", action="store_true", help="every element of mixcalphad's supported set")


def register(sub) -> None:
    """Add ``fit``, ``write-tdb``, ``fill`` and ``espei-datasets`` to the ``mixcalphad`` subparsers."""
    fit = _fit_arguments(sub.add_parser("fit", help="Redlich-Kister fit of one binary liquid"))
    fit.add_argument("a", help="first element (any order: the pair is sorted)")
    fit.add_argument("b", help="second element")
    fit.add_argument("--T", type=float, default=1873.0, metavar="K",
                     help="temperature at which S_ex and G_ex (x = 0.5) are reported, K (default 1873)")
    fit.set_defaults(func=cmd_fit)

    write = _fit_arguments(sub.add_parser("write-tdb", help="a self-contained LIQUID TDB for an element set"))
    _element_arguments(write)
    write.add_argument("-o", "--output", required=True, help="output TDB file")
    write.add_argument("--force", action="store_true", help="replace an existing output")
    write.add_argument("--solids", choices=("sgte", "pure", "none"), default="sgte",
                       help="SGTE solids shared by structure (ideal solutions, default), one phase per "
                            "element (no solubility), or none")
    write.set_defaults(func=cmd_write_tdb)

    fill = _fit_arguments(sub.add_parser("fill", help="add the LIQUID binaries a user's TDB lacks"))
    fill.add_argument("user_tdb", help="your TDB file (not modified)")
    fill.add_argument("--elements", nargs="+", default=[], metavar="EL",
                      help="elements to bring into the LIQUID, with their SGTE unary data")
    fill.add_argument("-o", "--output", required=True, help="output TDB file")
    fill.add_argument("--report", default=None, help="CSV of the binaries added and skipped")
    fill.add_argument("--force", action="store_true", help="replace existing outputs")
    fill.set_defaults(func=cmd_fill)

    espei = _fit_arguments(sub.add_parser("espei-datasets",
                                          help="ESPEI HM_MIX datasets, phase models, input YAML and seed TDB"))
    _element_arguments(espei)
    espei.add_argument("-o", "--output", required=True, help="output folder")
    espei.add_argument("--force", action="store_true", help="replace files written before")
    espei.add_argument("--no-tdb", action="store_true", help="no seed TDB and no MCMC input")
    espei.add_argument("--iterations", type=int, default=1000, help="MCMC iterations in espei-mcmc.yaml")
    espei.add_argument("--binaries", nargs="+", default=[], metavar="A-B",
                       help="refine only these binaries: datasets and MCMC symbols of these (default: all)")
    espei.add_argument("--seed-tdb", default=None, metavar="TDB",
                       help="start the MCMC from this mixcalphad TDB (e.g. tdb/mixcalphad-liquid.tdb) "
                            "instead of writing one; needs --binaries")
    espei.set_defaults(func=cmd_espei_datasets)
