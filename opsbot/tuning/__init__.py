"""The feedback loop: `opsbot tune` (learned examples from confirmed parses) and `opsbot eval`
(accuracy, latency and tokens of a parser or prompt version on a labelled set)."""
