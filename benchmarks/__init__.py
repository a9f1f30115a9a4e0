"""`make bench`: Shipyard measured side by side with the raw library it wraps; JSON in benchmarks/results/."""
