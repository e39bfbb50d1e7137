"""The hostile-input suite (issue #16, point 7): a hand-written corpus and generated inputs on
the intake streams, the decisions stream and `POST /v1/reports`, each answered within seconds."""
