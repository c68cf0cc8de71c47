package io.progrpo.trainer;

import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.cli.Commands;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.trainer.report.MethodResult;
import io.progrpo.trainer.report.MetricsLog;
import io.progrpo.trainer.report.ReportWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The CLI's work: train, eval and report, registered through ServiceLoader (module-info {@code provides}). */
public final class ProgrpoCommands implements Commands {
    /** Exit status of an epoch aborted by bad reward output (the last good checkpoint is intact). */
    public static final int EXIT_ABORTED = 3;

    private static void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    @Override
    public int train(TrainConfig c, boolean resume) {
        log(Jobs.describe(c));
        if (io.progrpo.trainer.distributed.DistributedGrpo.requested(System.getenv())) {
            // started by a launcher (scripts/launch-local, torchrun, srun): one rank of a data-parallel job
            try {
                return io.progrpo.trainer.distributed.DistributedGrpo.trainFromEnvironment(c, resume, ProgrpoCommands::log);
            } catch (TrainingRun.TrainingAbortedException e) {
                System.err.println("error: " + e.getMessage());
                return EXIT_ABORTED;
            } catch (IOException | IllegalArgumentException e) {
                System.err.println("error: " + e.getMessage());
                return 1;
            }
        }
        try (Jobs.Job job = Jobs.build(c, ProgrpoCommands::log)) {
            job.run(Path.of(c.outDir()), ProgrpoCommands::log).run(resume);
            log("done: metrics in " + Path.of(c.outDir()).resolve("metrics.jsonl"));
            return 0;
        } catch (TrainingRun.TrainingAbortedException e) {
            System.err.println("error: " + e.getMessage());
            return EXIT_ABORTED;
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    @Override
    public int eval(TrainConfig c, Path checkpoint) {
        Path policy = Files.isDirectory(checkpoint) ? checkpoint.resolve("policy.pt") : checkpoint;
        try (Jobs.Job job = Jobs.build(c, ProgrpoCommands::log)) {
            Map<String, Tensor> params = TensorIO.load(policy);
            try {
                job.policy().loadStateDict(params, true);
            } finally {
                params.values().forEach(Tensor::close);
            }
            double r = job.trainer().evaluate(job.reward(), 1);
            log(String.format(java.util.Locale.ROOT, "eval reward %.4f on %d held-out prompts (%s)", r,
                    c.evalPrompts() == 0 ? job.world().evalPrompts().size() : Math.min(c.evalPrompts(), job.world().evalPrompts().size()), policy));
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    @Override
    public int report(List<Path> runs, Path out) {
        try {
            Map<String, List<List<Map<String, Object>>>> byMethod = new LinkedHashMap<>();
            for (Path r : runs) {
                Path f = Files.isDirectory(r) ? r.resolve("metrics.jsonl") : r;
                List<Map<String, Object>> rows = MetricsLog.read(f);
                if (rows.isEmpty()) throw new IOException(f + " holds no epochs");
                String method = String.valueOf(rows.get(rows.size() - 1).get("method"));
                byMethod.computeIfAbsent(method, k -> new ArrayList<>()).add(rows);
            }
            List<MethodResult> results = new ArrayList<>();
            byMethod.forEach((m, h) -> results.add(Demo.summarize(m, h)));
            Files.createDirectories(out);
            String base = byMethod.containsKey("flow-grpo") ? "flow-grpo" : results.get(0).method();
            List<ReportWriter.Figure> figs = List.of(Demo.evalCurves(byMethod, out));
            ReportWriter.write(out.resolve("report.md"), new ReportWriter.Report("progrpo report", results, base, figs,
                    Demo.findings(results, byMethod.values().iterator().next().size())));
            log("wrote " + out.resolve("report.md"));
            return 0;
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
