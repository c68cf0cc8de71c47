package io.progrpo.app.cli;

import io.progrpo.app.study.Study;
import io.progrpo.app.study.StudyOptions;
import io.progrpo.trainer.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code progrpo study}: the pre-registered comparison of the paper's claims on one world ({@link Study}). Bad
 * options (a world or arm that does not exist, seeds below 1) are one line with exit status 2; {@code --dry-run}
 * prints the plan and its estimated compute and writes nothing.
 */
@Command(name = "study", mixinStandardHelpOptions = true,
        description = {"Run the pre-registered study of issue 18 on one world: every arm (flow-grpo, the subset baselines, the oracle, "
                + "pro-grpo and its schedules, flash, the G_max ablation, the adaptive method) on paired seeds, evaluated at matched "
                + "epochs and at matched compute with several samples per held-out prompt.",
                "Writes plan.json / plan.md (before the first run; a changed plan is refused), study.csv (one row per finished run), "
                        + "report.md (rewritten after every run) and runs/<arm>/seed-<s>/. A killed study continues where it stopped."})
final class StudyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--world", required = true, paramLabel = "pixel|latent", description = "The world to study.")
    String world;

    @Option(names = "--setting", paramLabel = "flow|diffusion", defaultValue = "flow", description = "The paper's setting: flow "
            + "(Flow-GRPO against pro-grpo and its schedules; default) or diffusion (DanceGRPO against pro-grpo-dance, 50 DDIM steps; "
            + "pixel world only).")
    String setting;

    @Option(names = "--out", paramLabel = "DIR", description = "The study's directory (default docs/study/<world>, with -diffusion "
            + "appended in the diffusion setting and -quick with --quick).")
    Path out;

    @Option(names = "--seeds", paramLabel = "N", description = "Paired seeds of flow-grpo and the headline arms; ablations run min(N, 5) "
            + "(default 10, or 2 with --quick). Part of the registered plan.")
    Integer seeds;

    @Option(names = "--quick", description = "Smoke-test size: 1 epoch of the quick overlay (world latent-quick for --world latent).")
    boolean quick;

    @Option(names = "--arms", split = ",", paramLabel = "A,B", description = "Run only these arms now (flow-grpo is always run); the "
            + "plan registers every arm, so a later call can run the rest.")
    List<String> arms;

    @Option(names = "--dry-run", description = "Print the plan and its estimated compute, then exit; writes nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        StudyOptions o = new StudyOptions(world, setting, out, seeds, quick, arms, dryRun);
        try {
            Study.plan(o);
            if (dryRun) {
                spec.commandLine().getOut().print(Study.dryRun(o));
                spec.commandLine().getOut().flush();
                return 0;
            }
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(Main.configError(e));
            spec.commandLine().getErr().flush();
            return Main.EXIT_USAGE;
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return Main.EXIT_USAGE;
        }
        Commands impl = Main.commands(spec.commandLine().getErr());
        if (impl == null) return Main.EXIT_FAILURE;
        try {
            return impl.study(o);
        } catch (UnsupportedOperationException e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
