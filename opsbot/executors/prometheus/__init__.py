"""Answers from Prometheus: the HTTP client (client.py), series helpers (series.py), formatting, and one
module per kind of answer (range_chart, query, alerts, targets, forecast, llm_status); executor.py
dispatches. This file imports nothing, so the rule loader can read executors.fields without the client."""
