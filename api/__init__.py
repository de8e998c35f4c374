"""HTTP API, command line and the composition of the service's runtime pieces."""
