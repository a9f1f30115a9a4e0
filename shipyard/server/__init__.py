"""REST surface: FastAPI app factory, one router per domain under /api/v1."""
