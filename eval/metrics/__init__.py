"""The metrics: torchmetrics `Metric`s (update / compute / reset; states merge across processes) and a
per-sample `score_sample` function each, one module per metric.

The registry that `python -m eval.run --metrics` reads is `eval.scoring.SCORERS` (one entry per metric,
with how it loads weights and turns a clip into a samples.csv row); this package holds the measurements.
"""
