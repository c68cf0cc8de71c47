package io.progrpo.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.progrpo.app.job.Jobs;
import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.MemoryLedger;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.tensor.Torch;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.Phases;
import io.progrpo.trainer.ProcessStats;
import io.progrpo.trainer.config.Method;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.model.WorldModel;
import io.progrpo.world.model.WorldModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java side of {@code scripts/bench-compare}: times whole GRPO epochs (sampling, reward, training) for one or more
 * methods after warm-up epochs, and prints one JSON object. The world is the config's: the pixel world
 * ({@code --overlay demo}; PyTorch peer {@code bench/python/peer.py}) or the demo's latent scene world
 * ({@code --overlay demo+latent}: LoRA policy, autoencoder decoder, learned reward; peer
 * {@code bench/python/peer_latent.py}). {@code --export DIR} feeds the peer: weights, conditioning rows, fixed inputs
 * with the Java outputs ({@link PeerExport}, {@link LatentPeerExport}) and the run's sizes, so the peer loads the same
 * parameters and checks that it computes what Java does before it is timed.
 *
 * <pre>
 * BenchCompare [--methods flow-grpo,pro-grpo,...] [--overlay demo] [--epochs 3] [--warmup 1] [--threads N]
 *              [--reward brightness|config] [--set key=value]... [--export DIR] [--out FILE]
 * BenchCompare --forward-scaling 12,24,96 [--set key=value]...    best-of-15 ms of one forward (no grad) and of
 *                                                                  forward + backward per row count, then exit
 * </pre>
 * What is measured per epoch: SAMPLING and REWARD as the expand-and-prune driver times them (reward calls apart),
 * TRAINING as the trainer times it, and the wall time of the whole {@link GrpoTrainer#runEpoch} call. Memory: the
 * process's peak resident set (VmHWM, reset through {@code /proc/self/clear_refs} after the model and optimizer are
 * built, so it covers the warm-up and timed epochs), its growth over that base, and the
 * {@link MemoryLedger} peak of bytes held by Java tensor handles (autograd's saved tensors are not in it), over the
 * whole epoch and over sampling and reward alone (read when training begins), where the trajectory lives.
 *
 * <p>{@code --reward brightness} is the stand-in both sides compute: the mean pixel of each decoded image. It costs
 * one tensor reduction, so the comparison times sampling and training, not a reward port. {@code --reward config}
 * uses the configured reward (the world's prompt alignment by default).
 */
public final class BenchCompare {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchCompare() {}

    /** Parsed command line. */
    record Args(List<String> methods, String overlay, int epochs, int warmup, int threads, String reward, List<String> sets,
                Path export, Path out, List<Integer> forwardRows) {
        Args {
            if (methods.isEmpty()) throw new IllegalArgumentException("--methods needs at least one method, got none");
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            if (!reward.equals("brightness") && !reward.equals("config")) {
                throw new IllegalArgumentException("--reward must be brightness or config, got '" + reward + "'");
            }
        }

        static Args parse(String[] a) {
            List<String> methods = List.of("flow-grpo");
            String overlay = "demo";
            int epochs = 3;
            int warmup = 1;
            int threads = Runtime.getRuntime().availableProcessors();
            String reward = "brightness";
            List<String> sets = new ArrayList<>();
            Path export = null;
            Path out = null;
            List<Integer> forwardRows = List.of();
            for (int i = 0; i < a.length; i++) {
                String k = a[i];
                if (k.equals("-h") || k.equals("--help")) throw new IllegalArgumentException(usage());
                if (i + 1 >= a.length) throw new IllegalArgumentException(k + " needs a value\n" + usage());
                String v = a[++i];
                switch (k) {
                    case "--methods" -> methods = List.of(v.split(","));
                    case "--overlay" -> overlay = v;
                    case "--epochs" -> epochs = parseInt(k, v);
                    case "--warmup" -> warmup = parseInt(k, v);
                    case "--threads" -> threads = parseInt(k, v);
                    case "--reward" -> reward = v;
                    case "--set" -> sets.add(v);
                    case "--export" -> export = Path.of(v);
                    case "--out" -> out = Path.of(v);
                    case "--forward-scaling" -> {
                        List<Integer> rows = new ArrayList<>();
                        for (String r : v.split(",")) rows.add(parseInt(k, r));
                        forwardRows = List.copyOf(rows);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + k + "\n" + usage());
                }
            }
            return new Args(methods, overlay, epochs, warmup, threads, reward, sets, export, out, forwardRows);
        }

        private static int parseInt(String key, String v) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " needs an integer, got '" + v + "'");
            }
        }

        static String usage() {
            return "usage: BenchCompare [--methods m1,m2] [--overlay demo|none] [--epochs N] [--warmup N] [--threads N]"
                    + " [--reward brightness|config] [--set key=value]... [--export DIR] [--out FILE] [--forward-scaling 24,96,192]";
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args;
        try {
            args = Args.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Torch.ensureAvailable();
        Torch.setNumThreads(args.threads());
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("side", "java");
        report.put("torch", Torch.describe());
        report.put("threads", Torch.numThreads());
        report.put("reward", args.reward());
        report.put("load_average_start", ProcessStats.loadAverage());
        if (!args.forwardRows().isEmpty()) {
            report.put("forward_scaling", forwardScaling(args));
        } else {
            report.put("runs", runMethods(args));
        }
        report.put("load_average_end", ProcessStats.loadAverage());
        String json = JSON.writeValueAsString(report);
        if (args.out() != null) {
            if (args.out().getParent() != null) Files.createDirectories(args.out().getParent());
            Files.writeString(args.out(), json);
        }
        System.out.println(json);
    }

    /** The resolved config of a method for this benchmark: method preset, then the overlay, then the --set values. */
    static TrainConfig config(Args a, String method) {
        String preset = a.overlay().equals("none") ? method : method + "+" + a.overlay();
        // no shadow groups (the demo overlay has them): they are measurement, not the training cost compared here
        List<String> sets = new ArrayList<>(List.of("shadowEvery=0"));
        sets.addAll(a.sets());
        sets.add("evalEvery=0");
        sets.add("outDir=" + System.getProperty("java.io.tmpdir") + "/progrpo-bench-compare");
        return TrainConfig.resolve(preset, null, sets);
    }

    /** One method's job under test: its config, policy, trainer and probe, and the rows of its timed epochs. */
    private static final class Bench implements AutoCloseable {
        final TrainConfig config;
        final io.progrpo.tensor.nn.Module policy;
        /** The latent world's parts (policy included), or null for the pixel world. */
        final LatentBench latent;
        final GrpoTrainer trainer;
        final LedgerProbe probe;
        final Map<String, Object> result = new LinkedHashMap<>();
        final List<Map<String, Object>> epochs = new ArrayList<>();
        final long macs;

        Bench(Args a, String method, boolean export) throws IOException {
            config = config(a, method);
            Method m = Method.byName(config.method());
            RewardFunction standIn = a.reward().equals("brightness") ? new Brightness() : null;
            io.progrpo.sampler.PromptWorld world;
            io.progrpo.sampler.Decoder decoder;
            RewardFunction reward;
            if (config.latentWorld()) {
                // the demo's world: LoRA policy over the latent generator, the autoencoder's decoder, the learned reward
                latent = LatentBench.open(config, standIn, s -> System.err.println(s));
                policy = latent.policy;
                world = latent.world;
                decoder = latent.world.decoder();
                reward = latent.reward;
                macs = latent.macs();
            } else {
                latent = null;
                EmbeddedWorld pixel = new EmbeddedWorld(config.imageSize());
                reward = standIn != null ? standIn : Jobs.reward(config);
                WorldModel wm = Jobs.baseModel(config, m, pixel, s -> System.err.println(s));
                policy = wm;
                world = pixel;
                decoder = Jobs.decoder();
                WorldModelConfig mc = wm.config();
                macs = WorldModel.forwardMacs(mc.imageSize(), mc.width(), mc.tokens());
                if (export) PeerExport.write(a.export(), config, wm, pixel);
            }
            result.put("method", config.method());
            result.put("config", JSON.readTree(config.toJson()));
            result.put("model_parameters", policy.parameterCount());
            result.put("forward_macs_per_row", macs);
            probe = new LedgerProbe(Device.parse(config.device()));
            trainer = new GrpoTrainer(GrpoTrainer.Settings.of(config), probed(Jobs.plan(config), probe), policy, null, world, reward, decoder);
            // the latent peer's files come from their own copy of the world (the same cached weights), checked on two recorded epochs
            if (export && latent != null) LatentPeerExport.write(a.export(), config, trainer.groupsPerStep(), s -> System.err.println(s));
        }

        void epoch(int e, boolean timed) {
            // the ledger's peak when training begins is the peak of sampling and reward: the trajectory's phase
            long[] samplingPeak = {-1};
            Device dev = Device.parse(config.device());
            Phases phases = new Phases(p -> {
                if (p.equals("TRAINING")) {
                    samplingPeak[0] = MemoryLedger.peakBytes(dev);
                    probe.observe();
                }
            });
            probe.reset();
            double cpu0 = ProcessStats.processCpuSeconds();
            long t0 = System.nanoTime();
            Map<String, Object> em = trainer.runEpoch(e, phases);
            double wall = (System.nanoTime() - t0) / 1e9;
            double cpu = ProcessStats.processCpuSeconds() - cpu0;
            if (!timed) return;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e);
            row.put("sampling_s", phases.seconds("SAMPLING"));
            row.put("reward_s", phases.seconds("REWARD"));
            row.put("training_s", phases.seconds("TRAINING"));
            row.put("epoch_s", phases.seconds("SAMPLING") + phases.seconds("REWARD") + phases.seconds("TRAINING"));
            row.put("epoch_wall_s", wall);
            row.put("epoch_cpu_s", cpu);
            for (String k : List.of("trajectories_sampled", "trajectories_trained", "nfe_sampling", "nfe_training", "optimizer_steps",
                    "trained_steps", "trained_rows", "trajectory_bytes", "peak_bytes", "previews", "reward_mean", "loss")) {
                row.put(k, em.get(k));
            }
            row.put("ledger_peak_sampling_bytes", samplingPeak[0]);
            row.put("sampling_resident_peak_bytes", probe.peakGrowth());
            row.put("load_average", ProcessStats.loadAverage());
            epochs.add(row);
        }

        Map<String, Object> finish(long rssBase, long hwm, boolean hwmReset) {
            result.put("epochs", epochs);
            Map<String, Object> s = summary(epochs, macs, config);
            // with several methods in one process the resident-set numbers are the process's, shared by all of them
            s.put("rss_base_bytes", rssBase);
            s.put("peak_rss_bytes", hwm);
            s.put("peak_rss_growth_bytes", hwm - rssBase);
            s.put("peak_rss_reset", hwmReset);
            result.put("summary", s);
            return result;
        }

        @Override
        public void close() {
            trainer.close();
            if (latent != null) latent.close();
            else policy.close();
        }
    }

    /**
     * Builds every method's job, then runs the epochs interleaved (epoch e of each method in turn), so that all
     * methods see about the same machine load.
     */
    private static List<Map<String, Object>> runMethods(Args a) throws IOException {
        List<Bench> benches = new ArrayList<>();
        try {
            for (int i = 0; i < a.methods().size(); i++) {
                benches.add(new Bench(a, a.methods().get(i), i == 0 && a.export() != null));
            }
            // the peak covers warm-up and timed epochs, over the resident set with the models and optimizers built
            System.gc();
            long rssBase = ProcessStats.procStatusBytes("VmRSS");
            boolean hwmReset = ProcessStats.resetPeakRss();
            for (int e = 0; e < a.warmup() + a.epochs(); e++) {
                for (Bench b : benches) b.epoch(e, e >= a.warmup());
            }
            long hwm = ProcessStats.procStatusBytes("VmHWM");
            List<Map<String, Object>> out = new ArrayList<>();
            for (Bench b : benches) out.add(b.finish(rssBase, hwm, hwmReset));
            return out;
        } finally {
            benches.forEach(Bench::close);
        }
    }

    /** Forward scaling: untimed rounds before the first row count, then timed rounds per row count (best of). */
    static final int FORWARD_WARMUP = 20;
    static final int FORWARD_TIMED = 15;

    /**
     * Best-of-15 milliseconds (after 20 untimed rounds) of one model forward without gradient, and of forward plus
     * backward, for each row count: how the per-row cost changes with the batch (the peer's model is timed the same
     * way).
     */
    private static List<Map<String, Object>> forwardScaling(Args a) {
        TrainConfig c = config(a, a.methods().get(0));
        if (c.latentWorld()) throw new IllegalArgumentException("--forward-scaling times the pixel world's model (use --overlay demo)");
        EmbeddedWorld world = new EmbeddedWorld(c.imageSize());
        List<Map<String, Object>> out = new ArrayList<>();
        try (WorldModel m = Jobs.baseModel(c, Method.byName(c.method()), world, s -> System.err.println(s));
             Generator g = Generator.create(5)) {
            List<String> prompts = world.trainPrompts();
            for (int k = 0; k < a.forwardRows().size(); k++) {
                int rows = a.forwardRows().get(k);
                List<String> p = new ArrayList<>();
                for (int i = 0; i < rows; i++) p.add(prompts.get(i % prompts.size()));
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.randn(g, DType.FLOAT32, Device.CPU, rows, 3, c.imageSize(), c.imageSize());
                    Tensor t = Tensor.full(0.5, DType.FLOAT32, Device.CPU, rows);
                    Tensor cond = world.conditioning(p, Device.CPU);
                    double fwd = Double.MAX_VALUE;
                    double both = Double.MAX_VALUE;
                    // 20 untimed rounds before the first row count (the JIT compiles the forward's Java code; the
                    // peer runs the same schedule), then best of 15 at each row count
                    int rounds = k == 0 ? FORWARD_WARMUP + FORWARD_TIMED : FORWARD_TIMED;
                    for (int it = 0; it < rounds; it++) {
                        boolean timed = k > 0 || it >= FORWARD_WARMUP;
                        long t0 = System.nanoTime();
                        try (Scope in = Scope.open(); var ng = Autograd.noGrad()) {
                            m.predict(x, t, cond);
                        }
                        if (timed) fwd = Math.min(fwd, (System.nanoTime() - t0) / 1e6);
                        t0 = System.nanoTime();
                        try (Scope in = Scope.open()) {
                            m.predict(x, t, cond).square().mean().backward();
                        }
                        if (timed) both = Math.min(both, (System.nanoTime() - t0) / 1e6);
                    }
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("rows", rows);
                    r.put("forward_nograd_ms", fwd);
                    r.put("forward_backward_ms", both);
                    r.put("load_average", ProcessStats.loadAverage());
                    out.add(r);
                }
            }
        }
        return out;
    }

    /** Means over the timed epochs, rates, and the Table-4-style FLOP accounting of one epoch. */
    static Map<String, Object> summary(List<Map<String, Object>> epochs, long macs, TrainConfig c) {
        Map<String, Object> s = new LinkedHashMap<>();
        for (String k : List.of("sampling_s", "reward_s", "training_s", "epoch_s", "epoch_wall_s", "epoch_cpu_s", "nfe_sampling", "nfe_training",
                "trajectories_sampled", "trajectories_trained", "optimizer_steps")) {
            s.put(k, meanOf(epochs, k));
        }
        double minEpoch = epochs.stream().mapToDouble(e -> ((Number) e.get("epoch_wall_s")).doubleValue()).min().orElse(Double.NaN);
        s.put("epoch_wall_min_s", minEpoch);
        s.put("rows_per_s", meanOf(epochs, "trajectories_sampled") / meanOf(epochs, "sampling_s"));
        s.put("forward_rows_per_s", meanOf(epochs, "nfe_sampling") / meanOf(epochs, "sampling_s"));
        s.put("training_step_s", meanOf(epochs, "training_s") / Math.max(1, meanOf(epochs, "optimizer_steps")));
        s.put("ledger_peak_bytes", epochs.stream().mapToLong(e -> ((Number) e.get("peak_bytes")).longValue()).max().orElse(0));
        s.put("ledger_peak_sampling_bytes", epochs.stream().mapToLong(e -> ((Number) e.get("ledger_peak_sampling_bytes")).longValue()).max().orElse(0));
        s.put("sampling_resident_peak_bytes", epochs.stream().mapToLong(e -> ((Number) e.get("sampling_resident_peak_bytes")).longValue()).max().orElse(0));
        s.put("trajectory_bytes_final", epochs.stream().mapToLong(e -> ((Number) e.get("trajectory_bytes")).longValue()).max().orElse(0));
        double nfeS = meanOf(epochs, "nfe_sampling");
        double nfeT = meanOf(epochs, "nfe_training");
        double[] f = epochFlops(macs, nfeS, nfeT, c.guidanceScale() != 1, c.detachUncond());
        s.put("flops_sampling", f[0]);
        s.put("flops_training", f[1]);
        s.put("flops_epoch", f[0] + f[1]);
        return s;
    }

    /**
     * FLOPs of an epoch: {sampling, training}. A forward is 2 MACs per row; a backward costs two forwards. With
     * classifier-free guidance and a detached unconditional branch, half of the training NFE (the unconditional
     * rows) are forwards without backward.
     */
    public static double[] epochFlops(long macs, double nfeSampling, double nfeTraining, boolean cfg, boolean detachUncond) {
        double fwd = 2.0 * macs;
        double withGrad = cfg && detachUncond ? nfeTraining / 2 : nfeTraining;
        double noGrad = nfeTraining - withGrad;
        return new double[] {nfeSampling * fwd, withGrad * 3 * fwd + noGrad * fwd};
    }

    private static double meanOf(List<Map<String, Object>> rows, String key) {
        return rows.stream().mapToDouble(e -> ((Number) e.get(key)).doubleValue()).average().orElse(Double.NaN);
    }

    /** The plan with its sampler wrapped by the probe (every call delegates; steps are seen first). */
    static GrpoTrainer.Plan probed(GrpoTrainer.Plan p, LedgerProbe probe) {
        Sampler inner = p.sampler();
        Sampler wrapped = new io.progrpo.sampler.ForwardingSampler(inner) {
            @Override
            public StepOutput step(VelocityModel m, Tensor x, Tensor cond, int i, Generator gen) {
                probe.observe();
                return super.step(m, x, cond, i, gen);
            }
        };
        return new GrpoTrainer.Plan(p.method(), wrapped, p.evalSampler(), p.schedule(), p.strategy(), p.sharedGroupNoise());
    }

    /**
     * The bytes the Java side holds between sampler steps (at each step's entry, and once more when training begins,
     * so a step's transient activations are not in it), less those held when the epoch began: the stored trajectory,
     * the current latents, the initial noise and the conditioning rows. The ledger's own peak also counts the
     * transients of the largest forward.
     */
    static final class LedgerProbe {
        private final Device device;
        private long base;
        private long peak;

        LedgerProbe(Device device) {
            this.device = device;
        }

        void reset() {
            base = MemoryLedger.bytes(device);
            peak = 0;
        }

        void observe() {
            peak = Math.max(peak, MemoryLedger.bytes(device) - base);
        }

        long peakGrowth() {
            return peak;
        }
    }

    /** The stand-in reward both sides compute: the mean pixel of each image (one reduction). */
    static final class Brightness implements RewardFunction {
        @Override
        public String name() {
            return "brightness";
        }

        @Override
        public RewardOutput score(Tensor images, List<String> prompts) {
            long n = images.size(0);
            try (Scope s = Scope.open()) {
                double[] r = images.reshape(n, -1).mean(false, 1).toDoubleArray();
                return new RewardOutput(r, Map.of());
            }
        }
    }


}
