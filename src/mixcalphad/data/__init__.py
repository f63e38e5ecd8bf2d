"""ΔH_mix observations: their schema, the provenance-keeping store, TDB reading and harvesting, the corpus.

This folder also holds the package's data files (element table, assessed and AIMD tables, default
model); ``README.md`` beside them says how each was made.
"""
