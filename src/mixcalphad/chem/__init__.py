"""Chemistry of the pure elements and their pairs: pair naming, the element table, Miedema's model."""
