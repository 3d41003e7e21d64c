"""General statistics that know nothing of the thesis."""
