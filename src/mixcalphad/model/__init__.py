"""Prediction of ΔH_mix of binary liquids (J/mol of atoms).

Modules: ``features`` (composition features, used by acquisition), ``pair_features`` (pair features in
a fixed orientation), ``curves`` (each observed curve as RK coefficients of its excess over Miedema),
``learners`` (LightGBM and GP coefficient models), ``regressor`` (:class:`HMixRegressor`),
``persistence`` (model files), ``predictor`` (the predictor protocol and the default model),
``evaluation`` and ``metrics`` (grouped nested CV, bootstrap intervals).
"""
