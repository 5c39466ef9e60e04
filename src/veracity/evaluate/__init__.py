"""Honest evaluation: metrics with confidence intervals and calibration."""

from veracity.evaluate.metrics import (
    Interval,
    MetricReport,
    bootstrap_interval,
    evaluate_binary,
    expected_calibration_error,
    multiclass_report,
)

__all__ = [
    "Interval",
    "MetricReport",
    "bootstrap_interval",
    "evaluate_binary",
    "expected_calibration_error",
    "multiclass_report",
]
