"""Calphad output: Redlich–Kister fits, unary data, TDB writing and merging, ESPEI files, liquidus."""
