"""The build pipeline (layer 4): parameters, input validation, notebook execution, cache, provenance."""
