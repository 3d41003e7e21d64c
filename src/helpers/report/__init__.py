"""Presentation (layer 2): figures, display tables, formatting, disclosure control, and the one reader of
the thesis's published numbers (``data/published``)."""
