"""The copilot: grounded, cited answers over the catalog (embedder, Qdrant index, hybrid retrieval, answers)."""
