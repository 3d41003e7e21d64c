"""The build pipeline: parameters, validation, execution, provenance."""
