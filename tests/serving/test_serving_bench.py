"""The llmserve benchmark's forecast part runs and meets its target (the engine part starts a serving lab
and is left to `make bench`)."""

from benchmarks.llmserve import TARGET_RATIO, bench_forecast


def test_the_forecast_bench_reports_the_ratio_to_seasonal_naive():
    r = bench_forecast(days=10, held=2, seeds=(7,))
    assert r["ratio"] == r["mape"] / r["naive_mape"] <= TARGET_RATIO
