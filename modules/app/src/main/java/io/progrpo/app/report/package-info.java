/**
 * What a run leaves behind and shows while it runs: the JSONL {@link io.progrpo.trainer.MetricsLog},
 * {@link io.progrpo.app.report.Progress} output for long phases, PNG {@link io.progrpo.app.report.Plots}
 * (reward histograms, reward curves, image grids) and the markdown {@link io.progrpo.app.report.ReportWriter}.
 */
package io.progrpo.app.report;
