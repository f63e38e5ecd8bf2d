"""Prediction of ΔH_mix: pair features, the Miedema + learned-residual regressor, evaluation."""
