"""Application services: one module per use case, driven by the batch pipeline."""
