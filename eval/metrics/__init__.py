"""The metrics: one module per metric, each a per-sample function (one clip in, one result out).

The registry that `python -m eval.run --metrics` reads is `eval.scoring.SCORERS` (one entry per metric: what it
needs from a sample, how it loads weights, its settings as `OPTIONS` for `--metric-args`); the run aggregates the
per-sample rows it writes to its resumable state file. FVD keeps a torchmetrics `Metric` (`fvd.FVD`): it is the
set-level distance `eval.run_sets` computes from the per-video features, not a second path.
"""
