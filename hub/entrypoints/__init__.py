"""Entry points: the CLI, the HTTP API, `hub serve` and the demo."""
