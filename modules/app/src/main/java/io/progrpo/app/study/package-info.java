/**
 * {@code progrpo study} (issue 18): the pre-registered comparison of the paper's claims on one world. {@link
 * io.progrpo.app.study.StudyPlan} fixes the arms, seeds, budget and evaluation before the first run and {@link
 * io.progrpo.app.study.PlanGuard} refuses a changed plan; {@link io.progrpo.app.study.Study} runs every (arm, seed)
 * resumably, each evaluated at matched epochs and at matched compute ({@link io.progrpo.app.study.MatchedCompute}) with
 * its own measurement error ({@link io.progrpo.app.study.StudyStats}); {@link io.progrpo.app.study.StudyCsv} holds one
 * row per finished run, and report.md is rewritten from it after every run.
 */
package io.progrpo.app.study;
