"""Which binaries to compute next by AIMD.

Modules, in the order :func:`mixcalphad.acquisition.plan.rank_binaries` uses them:
``feasibility`` (filters with reasons), ``value`` (GP on the regressor's residuals, integrated variance
reduction), ``gp`` (the paper's PHYSBO max-σ GP), ``cost`` (core-hours per run, shared references),
``batch`` (greedy selection with diversity), ``clustering`` (families of binaries), ``plan``.
"""
