package io.progrpo.app;

import io.progrpo.app.cli.Commands;
import io.progrpo.app.job.Jobs;
import io.progrpo.app.report.MethodResult;
import io.progrpo.app.report.ReportWriter;
import io.progrpo.app.torchscript.TorchScriptJob;
import io.progrpo.app.torchscript.TorchScriptModels;
import io.progrpo.reward.TorchScriptReward;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.TorchException;
import io.progrpo.trainer.MetricsLog;
import io.progrpo.trainer.TrainingRun;
import io.progrpo.trainer.config.ConfigException;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.Tokenizer;

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
    /**
     * Where {@link #trainTorchScript} saves the trained parameters when the run writes no checkpoint
     * ({@code checkpointEvery = 0}); otherwise they are the checkpoint's {@code policy.pt}, which holds the same dict.
     */
    public static final String ADAPTERS_FILE = "adapters.pt";

    private static void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    @Override
    public int train(TrainConfig c, boolean resume) {
        log(Jobs.describe(c));
        if (io.progrpo.app.distributed.DistributedGrpo.requested(System.getenv())) {
            // started by a launcher (scripts/launch-local, torchrun, srun): one rank of a data-parallel job
            try {
                return io.progrpo.app.distributed.DistributedGrpo.trainFromEnvironment(c, resume, ProgrpoCommands::log);
            } catch (ConfigException e) {
                throw e;  // the CLI prints it as "config error (FIELD): ..." with status 2
            } catch (TrainingRun.TrainingAbortedException | IOException | IllegalArgumentException e) {
                return fail(e);
            }
        }
        // the run directory's lock first: a second run into the same --out stops before building anything
        try (var lock = io.progrpo.trainer.RunLock.acquire(Path.of(c.outDir()));
             Jobs.Job job = Jobs.build(c, ProgrpoCommands::log)) {
            job.run(Path.of(c.outDir()), ProgrpoCommands::log).run(resume);
            log("done: metrics in " + Path.of(c.outDir()).resolve("metrics.jsonl"));
            return 0;
        } catch (TrainingRun.TrainingAbortedException | IOException e) {
            return fail(e);
        }
    }

    /**
     * Loads the TorchScript files, trains in one process with prompts and token ids from the embedded world (sized by
     * {@code c.imageSize()}), and leaves the trained parameters torch.load-able in the run directory: the last
     * checkpoint's {@code policy.pt} (TrainingRun writes one after the last epoch when {@code checkpointEvery > 0}),
     * else {@link #ADAPTERS_FILE}. Errors (a file that is missing or not TorchScript, a method or pattern that does not
     * fit, a call TorchScript rejects) are one line naming the file, with status 1; an aborted epoch gives
     * {@link #EXIT_ABORTED}.
     */
    @Override
    public int trainTorchScript(TrainConfig c, TorchScriptModels m, boolean resume) {
        log(Jobs.describe(c));
        String worldSize = System.getenv("WORLD_SIZE");
        if (worldSize != null && !worldSize.strip().equals("1")) {
            // each rank would train its own copy into the same directory
            System.err.println("error: train-torchscript runs in one process, but WORLD_SIZE=" + worldSize
                    + " asks for a data-parallel run, which TorchScript jobs do not support");
            return 1;
        }
        Path out = Path.of(c.outDir());
        TorchScriptReward.PromptTokenizer tokens = prompts -> prompts.stream().map(Tokenizer::encode).toArray(long[][]::new);
        try (var lock = io.progrpo.trainer.RunLock.acquire(out);
             TorchScriptJob job = TorchScriptJob.build(c, m, new EmbeddedWorld(c.imageSize()), tokens)) {
            var script = job.policy().scriptModule();
            log(String.format(java.util.Locale.ROOT, "policy %s: training %d parameters (%,d values) matching '%s'; KL reference: %s",
                    m.policy(), job.policy().parameters().size(), script.parameterCount(true), m.trainablePattern(),
                    job.reference() == null ? "none (beta = 0)" : job.reference().adapterScale() == 0 ? "adapters disabled" : "frozen copy"));
            TrainingRun run = job.run(out, ProgrpoCommands::log);
            TrainingRun.Start start = run.prepare(resume);
            // a fresh run replaces its directory's outputs: an adapters.pt of an earlier checkpointEvery=0 run would
            // otherwise sit next to this run's checkpoint and look like its result
            if (!resume && c.checkpointEvery() > 0) Files.deleteIfExists(out.resolve(ADAPTERS_FILE));
            run.run(start);
            Path adapters;
            if (c.checkpointEvery() > 0) {
                adapters = run.checkpointDir().resolve("policy.pt");
            } else {
                adapters = out.resolve(ADAPTERS_FILE);
                script.saveParameters(adapters, true);
            }
            log("done: metrics in " + out.resolve("metrics.jsonl") + "; trained parameters (torch.load) in " + adapters);
            return 0;
        } catch (ConfigException e) {
            throw e;  // the CLI prints it as "config error (FIELD): ..." with status 2
        } catch (TrainingRun.TrainingAbortedException | IOException | TorchException | IllegalArgumentException | IllegalStateException e) {
            return fail(e);
        }
    }

    /**
     * The commands' one way to end on an error they expect: the message on one line after "error: ", and the exit
     * status: {@link #EXIT_ABORTED} for an aborted epoch (rerunning with --resume continues), 2 for a study directory
     * that registers another plan or was started on another base model, 1 for everything else (a file, libtorch, a bad
     * argument or reward output).
     */
    private static int fail(Exception e) {
        System.err.println("error: " + oneLine(e.getMessage()));
        if (e instanceof TrainingRun.TrainingAbortedException) return EXIT_ABORTED;
        if (e instanceof io.progrpo.app.study.PlanGuard.PlanChangedException || e instanceof io.progrpo.app.study.Study.BaseModelChangedException) {
            return 2;
        }
        return 1;
    }

    /** libtorch and TorchScript messages may span lines; the CLI's errors are one line. */
    private static String oneLine(String s) {
        return s == null ? "(no message)" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    @Override
    public int eval(TrainConfig c, Path checkpoint) {
        return eval(c, checkpoint, null);
    }

    @Override
    public int eval(TrainConfig c, Path checkpoint, Path resultFile) {
        Path policy = Files.isDirectory(checkpoint) ? checkpoint.resolve("policy.pt") : checkpoint;
        try (Jobs.Job job = Jobs.build(c, ProgrpoCommands::log)) {
            if (Files.isDirectory(checkpoint)) TrainingRun.verifyCheckpoint(checkpoint);
            Map<String, Tensor> params = TensorIO.load(policy);
            try {
                if (!params.isEmpty() && java.util.Collections.disjoint(params.keySet(), job.policy().namedParameters().keySet())) {
                    // e.g. a train-torchscript run's adapters: say what eval is for instead of listing every name
                    throw new IllegalArgumentException(policy + " holds " + params.size() + " tensors (first: '"
                            + params.keySet().iterator().next() + "') and none is a parameter of the embedded world's "
                            + "model: eval evaluates runs of 'progrpo train'; trained TorchScript parameters load into "
                            + "their policy with ScriptModule.loadParameters (docs/torchscript.md)");
                }
                job.policy().loadStateDict(params, true);
            } finally {
                params.values().forEach(Tensor::close);
            }
            double r = job.trainer().evaluate(job.reward(), c.evalSamples());
            int prompts = c.evalPrompts() == 0 ? job.world().evalPrompts().size() : Math.min(c.evalPrompts(), job.world().evalPrompts().size());
            log(String.format(java.util.Locale.ROOT, "eval reward %.4f on %d held-out prompts x %d samples (%s)", r, prompts,
                    c.evalSamples(), policy));
            if (resultFile != null) {
                Map<String, Object> row = new java.util.LinkedHashMap<>();
                row.put("checkpoint", policy.toAbsolutePath().normalize().toString());
                row.put("method", c.method());
                row.put("reward", c.reward());
                row.put("eval_reward", r);
                row.put("eval_prompts", prompts);
                row.put("samples_per_prompt", c.evalSamples());
                row.put("eval_steps", c.evalSteps());
                Files.createDirectories(resultFile.toAbsolutePath().getParent());
                Files.writeString(resultFile, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(row) + "\n");
                log("wrote " + resultFile);
            }
            return 0;
        } catch (ConfigException e) {
            throw e;  // the CLI prints it as "config error (FIELD): ..." with status 2
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            // IllegalStateException: a reward output that fails its check (count, finiteness), named by the check
            return fail(e);
        }
    }

    /** Writes the combination of {@code p} around the base model its first checkpoint's config builds ({@link AdapterArithmetic}). */
    @Override
    public int adapters(io.progrpo.app.cli.AdapterPlan p) {
        try {
            // the base is read on the CPU, where TensorIO loads the inputs: the arithmetic is small, and a cuda run's
            // checkpoints combine on a machine without a GPU too
            TrainConfig c = AdapterArithmetic.baseConfig(p).with(Map.of("device", "cpu"), "progrpo adapters");
            try (Jobs.Job job = Jobs.build(c, ProgrpoCommands::log)) {
                AdapterArithmetic.run(p, job.policy().stateDict(), ProgrpoCommands::log);
            }
            return 0;
        } catch (ConfigException e) {
            throw e;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            return fail(e);
        }
    }

    /**
     * Runs the study ({@link io.progrpo.app.study.Study#run}): 0 when every selected run finished; 2 when the directory
     * registers another plan (the message names each difference) or was started on another base model; 1 when a file of
     * the study cannot be read or written;
     * {@link #EXIT_ABORTED} when an epoch was aborted by bad reward output (rerunning continues from its checkpoint).
     */
    @Override
    public int study(io.progrpo.app.study.StudyOptions o) {
        try {
            return io.progrpo.app.study.Study.run(o, ProgrpoCommands::log);
        } catch (io.progrpo.app.study.PlanGuard.PlanChangedException | io.progrpo.app.study.Study.BaseModelChangedException
                 | TrainingRun.TrainingAbortedException | IOException e) {
            return fail(e);
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
                    DemoFindings.findings(results, DemoFindings.finalEvalRewards(byMethod))
                    + " Runs are paired by the order given: list every method's runs in the same seed order."));
            log("wrote " + out.resolve("report.md"));
            return 0;
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
