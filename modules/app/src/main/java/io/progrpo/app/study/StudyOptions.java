package io.progrpo.app.study;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code progrpo study} was asked for.
 *
 * @param world   pixel or latent
 * @param setting {@link StudyPlan#FLOW} or {@link StudyPlan#DIFFUSION}
 * @param out     the study's directory; null: {@code docs/study/<world>}, {@code -diffusion} appended in the diffusion
 *                setting, {@code -quick} with quick
 * @param seeds  paired seeds of the baseline and headline arms (ablations: min(seeds, 5)); null: 10, or 2 with quick
 * @param quick  the smoke-test size
 * @param arms   the arms to run now (null: all); the plan registers every arm, so a later call can run the others
 * @param dryRun print the plan and its estimated compute, write nothing
 */
public record StudyOptions(String world, String setting, Path out, Integer seeds, boolean quick, List<String> arms, boolean dryRun) {
    public StudyOptions {
        setting = setting == null ? StudyPlan.FLOW : setting;
        arms = arms == null ? null : List.copyOf(arms);
    }

    /** The flow setting's options. */
    public StudyOptions(String world, Path out, Integer seeds, boolean quick, List<String> arms, boolean dryRun) {
        this(world, StudyPlan.FLOW, out, seeds, quick, arms, dryRun);
    }

    /** The study's directory. */
    public Path outDir() {
        return out != null ? out : Path.of("docs", "study", world + (StudyPlan.DIFFUSION.equals(setting) ? "-diffusion" : "")
                + (quick ? "-quick" : ""));
    }

    /** The command line that runs this study again (the report and plan record it). */
    public String command() {
        StringBuilder s = new StringBuilder("scripts/study --world ").append(world);
        if (!StudyPlan.FLOW.equals(setting)) s.append(" --setting ").append(setting);
        s.append(" --out ").append(outDir());
        if (seeds != null) s.append(" --seeds ").append(seeds);
        if (quick) s.append(" --quick");
        if (arms != null) s.append(" --arms ").append(String.join(",", arms));
        return s.toString();
    }
}
