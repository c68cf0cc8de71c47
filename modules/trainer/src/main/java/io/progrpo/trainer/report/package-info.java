/**
 * What a run leaves behind and shows while it runs: the JSONL {@link io.progrpo.trainer.report.MetricsLog},
 * {@link io.progrpo.trainer.report.Progress} output for long phases, PNG {@link io.progrpo.trainer.report.Plots}
 * (reward histograms, reward curves, image grids) and the markdown {@link io.progrpo.trainer.report.ReportWriter}.
 */
package io.progrpo.trainer.report;
