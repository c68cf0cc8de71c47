package io.progrpo.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.progrpo.app.job.Jobs;
import io.progrpo.reward.GroupAdvantages;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ClassifierFreeGuidance;
import io.progrpo.sampler.FlowSdeSampler;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.StepOutput;
import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.TensorIO;
import io.progrpo.trainer.GrpoObjective;
import io.progrpo.trainer.GrpoTrainer;
import io.progrpo.trainer.Phases;
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.latent.AutoencoderConfig;
import io.progrpo.world.latent.FlowTransformerConfig;
import io.progrpo.world.latent.LatentAutoencoder;
import io.progrpo.world.latent.LatentWorld;
import io.progrpo.world.latent.TextEncoder;
import io.progrpo.world.latent.TextEncoderConfig;
import io.progrpo.world.scene.Neighbours;
import io.progrpo.world.scene.ScenePrompt;
import io.progrpo.world.scene.SceneTokenizer;
import io.progrpo.world.scene.reward.RewardModelConfig;
import io.progrpo.world.scene.reward.SceneRewardModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the latent world's PyTorch peer ({@code bench/python/peer_latent.py}) reads, so that it runs the demo's world
 * and can check itself against Java before it is timed. {@link #write} loads the world as a job does (its own copy,
 * from the same cache as the benchmark's job), then writes:
 * <ul>
 *   <li>{@code weights.pt}: every model's state dict under a prefix: {@code text.} (frozen text encoder),
 *       {@code flow.} (the generator, LoRA adapters included, as pretrained), {@code vae.} (the autoencoder) and
 *       {@code reward.} (the learned reward model);</li>
 *   <li>{@code world.pt}: the train prompts' token ids {@code train_cond [P, L]}, the null prompt {@code uncond},
 *       and for the learned reward each train prompt's caption set (the prompt, then its one-attribute neighbours) as
 *       {@code reward_captions [M, Lr]} with {@code reward_set_start}, {@code reward_set_count [P]};</li>
 *   <li>{@code check.pt}: two epochs of a real {@code GrpoTrainer} on a small config ({@value #CHECK_GROUPS} groups of
 *       {@value #CHECK_GROUP_SIZE}, micro-batches of {@value #CHECK_MICRO_BATCH} (step, row) pairs), recorded by
 *       {@link PeerRecorder} ({@code e<k>.s<i>.*} sampling steps, {@code e<k>.images}, {@code e<k>.rewards},
 *       {@code e<k>.adv}, {@code e<k>.t<j>.*} training log-prob calls, {@code e<k>.param.*} the adapters after the
 *       epoch's AdamW step); then, with those adapters, fixed inputs and the Java outputs of the text encoder, the
 *       velocity with and without adapters, one guided SDE step (mean and log-prob of a given transition, and a
 *       step drawn from {@code Generator.create(99)}), the decoder, the learned reward's scores, and the loss and
 *       every adapter gradient of one surrogate backward;</li>
 *   <li>{@code config.json}: the sizes of every model, the latent scaling, the sampler (sigmas, T, a), guidance,
 *       the optimizer and GRPO settings, groups per optimizer step and trained steps, and the check's settings.</li>
 * </ul>
 */
final class LatentPeerExport {
    static final int CHECK_GROUPS = 2;
    static final int CHECK_GROUP_SIZE = 4;
    static final int CHECK_MICRO_BATCH = 5;
    static final int CHECK_EPOCHS = 2;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LatentPeerExport() {}

    /** The small config of the recorded epochs: {@code c} with 2 groups of 4, micro-batches of 5, the learned reward. */
    static TrainConfig checkConfig(TrainConfig c) {
        return c.withSets(List.of("groupsPerEpoch=" + CHECK_GROUPS, "groupSize=" + CHECK_GROUP_SIZE, "microBatch=" + CHECK_MICRO_BATCH,
                "shadowEvery=0", "reward=scene_preference", "optimizerStepsPerEpoch=1"));
    }

    /** What the peer implements; anything else is refused here, before a file is written. */
    static void requireSupported(TrainConfig c) {
        List<String> bad = new ArrayList<>();
        if (!c.latentWorld()) bad.add("world=" + c.world() + " (a latent world)");
        if (!c.method().equals("flow-grpo")) bad.add("method=" + c.method() + " (flow-grpo)");
        if (c.beta() != 0) bad.add("beta=" + c.beta() + " (0: no KL term)");
        if (!c.sampler().equals(TrainConfig.METHOD_SAMPLER)) bad.add("sampler=" + c.sampler() + " (the flow SDE)");
        if (!c.sdeWindow().equals(TrainConfig.NO_WINDOW)) bad.add("sdeWindow=" + c.sdeWindow() + " (none)");
        if (!c.ratioNorm().equals("none")) bad.add("ratioNorm=" + c.ratioNorm() + " (none)");
        if (c.emaDecay() != 0) bad.add("emaDecay=" + c.emaDecay() + " (0)");
        if (!c.trajectoryDtype().equals("float32")) bad.add("trajectoryDtype=" + c.trajectoryDtype() + " (float32)");
        if (!c.modelDtype().equals("float32") || !c.device().equals("cpu")) bad.add("modelDtype/device (float32 on the cpu)");
        if (!c.stdMode().equals("group")) bad.add("stdMode=" + c.stdMode() + " (group)");
        if (c.sharedInitialNoise()) bad.add("initialNoise=" + c.initialNoise() + " (row: one initial noise per row)");
        if (c.adamEps() != 1e-8) bad.add("adamEps=" + c.adamEps() + " (1e-8, the peer's)");
        if (!bad.isEmpty()) throw new IllegalArgumentException("the latent peer implements Flow-GRPO on the latent world only; change " + bad);
    }

    /**
     * Writes the four files into {@code dir} for benchmark config {@code c}, whose trainer takes
     * {@code groupsPerStep} prompt groups per optimizer step.
     */
    static void write(Path dir, TrainConfig c, int groupsPerStep, Consumer<String> log) throws IOException {
        requireSupported(c);
        Files.createDirectories(dir);
        TrainConfig small = checkConfig(c);
        Map<String, Tensor> check = new LinkedHashMap<>();
        try (LatentBench b = LatentBench.open(small, null, log)) {
            LatentWorld w = b.world;
            SceneRewardModel rm = b.learned.model();
            Map<String, Tensor> weights = new LinkedHashMap<>();
            w.textEncoder().stateDict().forEach((k, t) -> weights.put("text." + k, t));
            w.generator().stateDict().forEach((k, t) -> weights.put("flow." + k, t));
            w.models().autoencoder().stateDict().forEach((k, t) -> weights.put("vae." + k, t));
            rm.stateDict().forEach((k, t) -> weights.put("reward." + k, t));
            TensorIO.save(dir.resolve("weights.pt"), weights);
            writeWorld(dir.resolve("world.pt"), w);
            List<Double> losses = recordEpochs(small, b, check);
            modelChecks(small, b, check);
            TensorIO.save(dir.resolve("check.pt"), check);
            writeConfig(dir.resolve("config.json"), c, small, b, groupsPerStep, losses);
        } finally {
            check.values().forEach(Tensor::close);
        }
    }

    private static void writeWorld(Path file, LatentWorld w) throws IOException {
        List<String> train = w.trainPrompts();
        List<String> captions = new ArrayList<>();
        long[] start = new long[train.size()];
        long[] count = new long[train.size()];
        for (int i = 0; i < train.size(); i++) {
            // the learned reward's caption set of a prompt, as ScenePreferenceReward builds it: the prompt, then its neighbours
            start[i] = captions.size();
            captions.add(train.get(i));
            for (Neighbours.Neighbour nb : Neighbours.of(ScenePrompt.parse(train.get(i)))) captions.add(nb.prompt().text());
            count[i] = captions.size() - start[i];
        }
        try (Scope s = Scope.open()) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("train_cond", w.conditioning(train, Device.CPU));
            m.put("uncond", w.unconditional(Device.CPU));
            m.put("reward_captions", SceneTokenizer.tensor(captions, Device.CPU));
            m.put("reward_set_start", Tensor.of(start, start.length));
            m.put("reward_set_count", Tensor.of(count, count.length));
            TensorIO.save(file, m);
        }
    }

    /** Runs {@value #CHECK_EPOCHS} recorded epochs of the real trainer on the small config; returns each epoch's loss metric. */
    private static List<Double> recordEpochs(TrainConfig small, LatentBench b, Map<String, Tensor> check) {
        GrpoTrainer.Plan p = Jobs.plan(small);
        PeerRecorder rec = new PeerRecorder(p.sampler());
        GrpoTrainer.Plan recorded = new GrpoTrainer.Plan(p.method(), rec, p.evalSampler(), p.schedule(), p.strategy(), p.sharedGroupNoise());
        List<Double> losses = new ArrayList<>();
        try (GrpoTrainer tr = new GrpoTrainer(GrpoTrainer.Settings.of(small), recorded, b.policy, null, b.world, rec.reward(b.reward),
                b.world.decoder())) {
            for (int e = 0; e < CHECK_EPOCHS; e++) {
                rec.epoch(e);
                Map<String, Object> em = tr.runEpoch(e, new Phases(ph -> { }));
                losses.add(((Number) em.get("loss")).doubleValue());
                List<String> prompts = rec.prompts().get(e);
                if (prompts == null) throw new IllegalStateException("the reward was not called in check epoch " + e);
                List<String> train = b.world.trainPrompts();
                long[] idx = new long[prompts.size()];
                int[] groupOf = new int[prompts.size()];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = train.indexOf(prompts.get(i));
                    groupOf[i] = i / CHECK_GROUP_SIZE;
                }
                check.put("e" + e + ".prompt_index", Tensor.of(idx, idx.length).unscoped());
                // the trainer's own advantages of these scores (GrpoTrainer: group std, advClip, eps 1e-4)
                double[] rewards = rec.tensors().get("e" + e + ".rewards").toDoubleArray();
                double[] adv = GroupAdvantages.compute(rewards, groupOf, GroupAdvantages.StdMode.GROUP, small.advClip(), 1e-4);
                check.put("e" + e + ".adv", Tensor.of(adv, adv.length).unscoped());
                check.put("e" + e + ".train_calls", Tensor.of(new long[] {rec.trainCalls()}, 1).unscoped());
                for (Map.Entry<String, Tensor> t : b.policy.namedParameters().entrySet()) {
                    check.put("e" + e + ".param." + t.getKey(), PeerRecorder.copy(t.getValue()));
                }
            }
        }
        check.putAll(rec.tensors());
        return losses;
    }

    /** Fixed inputs and the Java outputs of each model and formula, with the adapters as the recorded epochs left them. */
    private static void modelChecks(TrainConfig c, LatentBench b, Map<String, Tensor> check) {
        LatentWorld w = b.world;
        FlowSdeSampler sampler = new FlowSdeSampler(c.samplerSteps(), c.shift(), c.noiseLevel());
        List<String> prompts = w.trainPrompts().subList(0, 4);
        long[] shape = w.latentShape();
        try (Scope s = Scope.open(); Generator g = Generator.create(123)) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            Tensor cond = w.conditioning(prompts, Device.CPU);
            Tensor uncond = w.unconditional(Device.CPU);
            m.put("cond", cond);
            m.put("prompt_index", Tensor.of(new long[] {0, 1, 2, 3}, 4));
            try (var ng = Autograd.noGrad()) {
                Tensor ids = Tensor.cat(List.of(cond, uncond), 0);
                TextEncoder.Encoded e = w.textEncoder().encode(ids);
                m.put("text_ids", ids);
                m.put("text_tokens", e.tokens());
                m.put("text_pooled", e.pooled());
                Tensor x = Tensor.randn(g, DType.FLOAT32, Device.CPU, 4, shape[0], shape[1], shape[2]);
                Tensor t = Tensor.of(new float[] {1.0f, 0.7f, 0.3f, 0.05f}, 4);
                m.put("x", x);
                m.put("t", t);
                m.put("velocity", b.policy.predict(x, t, cond));
                m.put("velocity_base", w.generator().predict(x, t, cond, 0.0));
                var guided = new ClassifierFreeGuidance(b.policy, c.guidanceScale(), uncond, c.detachUncond());
                Tensor xn = Tensor.randn(g, DType.FLOAT32, Device.CPU, 4, shape[0], shape[1], shape[2]);
                LogProbResult lp = sampler.logProb(guided, x, xn, cond, 3);
                m.put("x_next", xn);
                m.put("mean_step3", lp.mean());
                m.put("logprob_step3", lp.logProb());
                try (Generator sg = Generator.create(99)) {
                    StepOutput out = sampler.step(guided, x, cond, 3, sg);
                    m.put("step3_next", out.next());
                    m.put("step3_logprob", out.logProb());
                    Tensor images = w.decoder().decode(out.next());
                    m.put("images", images);
                    RewardOutput r = b.learned.score(images, prompts);
                    m.put("reward", Tensor.of(r.scores(), 4));
                    m.put("reward_match", Tensor.of(r.metrics().get("match"), 4));
                }
            }
            // one surrogate backward over rows of mixed steps, as the trainer's micro-batches: loss and every adapter gradient
            var guided = new ClassifierFreeGuidance(b.policy, c.guidanceScale(), uncond, c.detachUncond());
            Tensor xs = check.get("e1.s2.x").narrow(0, 0, 3);
            Tensor xs2 = check.get("e1.s6.x").narrow(0, 3, 3);
            Tensor x = Tensor.cat(List.of(xs, xs2), 0);
            Tensor xn = Tensor.cat(List.of(check.get("e1.s2.next").narrow(0, 0, 3), check.get("e1.s6.next").narrow(0, 3, 3)), 0);
            Tensor old = Tensor.cat(List.of(check.get("e1.s2.logp").narrow(0, 0, 3), check.get("e1.s6.logp").narrow(0, 3, 3)), 0);
            Tensor rowCond = check.get("e1.cond").narrow(0, 0, 6);
            int[] steps = {2, 2, 2, 6, 6, 6};
            Tensor adv = Tensor.of(new float[] {1.5f, -0.5f, 0.25f, -1.0f, 2.0f, -2.5f}, 6);
            b.policy.namedParameters().values().forEach(Tensor::zeroGrad);
            LogProbResult lp = sampler.logProb(guided, x, xn, rowCond, steps);
            try (GrpoObjective.Parts parts = new GrpoObjective(c.clipRange(), 0).loss(lp.logProb(), old, adv, lp.mean(), null, null)) {
                parts.loss().backward();
                m.put("grad_x", x);
                m.put("grad_x_next", xn);
                m.put("grad_old_logp", old);
                m.put("grad_cond", rowCond);
                m.put("grad_steps", Tensor.of(steps, steps.length));
                m.put("grad_adv", adv);
                m.put("grad_loss", Tensor.of(new double[] {parts.policyLoss()}, 1));
                for (Map.Entry<String, Tensor> p : b.policy.namedParameters().entrySet()) m.put("grad." + p.getKey(), p.getValue().grad());
            }
            b.policy.namedParameters().values().forEach(Tensor::zeroGrad);
            m.forEach((k, v) -> check.put(k, PeerRecorder.copy(v)));
        }
    }

    private static void writeConfig(Path file, TrainConfig c, TrainConfig small, LatentBench b, int groupsPerStep, List<Double> losses)
            throws IOException {
        LatentWorld w = b.world;
        TextEncoderConfig tc = w.textEncoder().config();
        FlowTransformerConfig fc = w.generator().config();
        LatentAutoencoder ae = w.models().autoencoder();
        AutoencoderConfig ac = ae.config();
        RewardModelConfig rc = b.learned.model().config();
        FlowSdeSampler sampler = new FlowSdeSampler(c.samplerSteps(), c.shift(), c.noiseLevel());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("world", c.world());
        cfg.put("text", Map.of("vocabSize", tc.vocabSize(), "tokens", tc.tokens(), "width", tc.width(), "layers", tc.layers(), "heads", tc.heads()));
        Map<String, Object> gen = new LinkedHashMap<>();
        gen.put("latentChannels", fc.latentChannels());
        gen.put("latentSize", fc.latentSize());
        gen.put("patch", fc.patch());
        gen.put("width", fc.width());
        gen.put("depth", fc.depth());
        gen.put("heads", fc.heads());
        gen.put("mlpRatio", fc.mlpRatio());
        gen.put("textWidth", fc.textWidth());
        gen.put("textTokens", fc.textTokens());
        gen.put("loraRank", fc.loraRank());
        gen.put("loraAlpha", fc.loraAlpha());
        cfg.put("generator", gen);
        cfg.put("autoencoder", Map.of("imageSize", ac.imageSize(), "latentChannels", ac.latentChannels(), "width", ac.width(),
                "shift", ae.shiftFactor(), "scale", ae.scalingFactor()));
        cfg.put("reward", Map.of("imageSize", rc.imageSize(), "width", rc.width(), "embedDim", rc.embedDim(), "textLayers", rc.textLayers(),
                "heads", rc.heads(), "vocabSize", rc.vocabSize(), "sequenceLength", rc.sequenceLength()));
        cfg.put("samplerSteps", c.samplerSteps());
        cfg.put("shift", c.shift());
        cfg.put("noiseLevel", c.noiseLevel());
        cfg.put("sigmas", sampler.schedule().sigmas());
        cfg.put("guidanceScale", c.guidanceScale());
        cfg.put("detachUncond", c.detachUncond());
        cfg.put("groupSize", c.groupSize());
        cfg.put("groupsPerEpoch", c.groupsPerEpoch());
        cfg.put("groupsPerStep", groupsPerStep);
        // PolicyUpdate.trainedStepCount: max(1, floor(f (T - 1))) of the T stored (stochastic) steps
        cfg.put("trainedSteps", Math.max(1, (int) Math.floor(c.trainStepFraction() * Math.max(1, c.samplerSteps() - 1) + 1e-9)));
        cfg.put("trainStepFraction", c.trainStepFraction());
        cfg.put("microBatch", c.microBatch());
        cfg.put("clipRange", c.clipRange());
        cfg.put("advClip", c.advClip());
        cfg.put("lr", c.lr());
        cfg.put("beta1", c.beta1());
        cfg.put("beta2", c.beta2());
        cfg.put("adamEps", 1e-8);
        cfg.put("weightDecay", c.weightDecay());
        cfg.put("gradClip", c.gradClip());
        cfg.put("seed", c.seed());
        cfg.put("forward_macs_per_row", b.macs());
        cfg.put("decoder_macs_per_image", w.decoderMacsPerImage());
        Map<String, Object> chk = new LinkedHashMap<>();
        chk.put("groupsPerEpoch", small.groupsPerEpoch());
        chk.put("groupSize", small.groupSize());
        chk.put("microBatch", small.microBatch());
        chk.put("epochs", CHECK_EPOCHS);
        chk.put("loss", losses);
        cfg.put("check", chk);
        Files.writeString(file, JSON.writeValueAsString(cfg));
    }
}
