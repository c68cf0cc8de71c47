package io.progrpo.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import io.progrpo.trainer.config.TrainConfig;
import io.progrpo.world.EmbeddedWorld;
import io.progrpo.world.model.WorldModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The files the PyTorch peer of {@code scripts/bench-compare} reads, so that both sides start from the same model. */
final class PeerExport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PeerExport() {}

    /**
     * Writes what the Python peer needs: weights.pt (the policy's state dict), world.pt (the train prompts'
     * conditioning rows and the unconditional row), check.pt (fixed inputs with this model's outputs) and
     * config.json (the run's sizes and settings).
     */
    static void write(Path dir, TrainConfig c, WorldModel policy, EmbeddedWorld world) throws IOException {
        Files.createDirectories(dir);
        TensorIO.save(dir.resolve("weights.pt"), policy.stateDict());
        int s = c.imageSize();
        try (Scope scope = Scope.open(); var ng = Autograd.noGrad(); Generator g = Generator.create(123)) {
            Tensor trainCond = world.conditioning(world.trainPrompts(), Device.CPU);
            Tensor uncond = world.unconditional(Device.CPU);
            TensorIO.save(dir.resolve("world.pt"), Map.of("train_cond", trainCond, "uncond", uncond));

            Map<String, Tensor> check = new LinkedHashMap<>();
            Tensor x = Tensor.randn(g, DType.FLOAT32, Device.CPU, 4, 3, s, s);
            Tensor t = Tensor.of(new float[] {1.0f, 0.7f, 0.3f, 0.05f}, 4);
            Tensor cond = Tensor.cat(List.of(trainCond.narrow(0, 0, 3), uncond), 0);
            check.put("x", x);
            check.put("t", t);
            check.put("cond", cond);
            check.put("out", policy.predict(x, t, cond));
            // one guided SDE step and the log-prob of a given transition at step 3
            FlowSdeSampler sampler = new FlowSdeSampler(c.samplerSteps(), c.shift(), c.noiseLevel());
            var guided = new ClassifierFreeGuidance(policy, c.guidanceScale(), uncond, c.detachUncond());
            Tensor condS = trainCond.narrow(0, 0, 4);
            Tensor xn = Tensor.randn(g, DType.FLOAT32, Device.CPU, 4, 3, s, s);
            LogProbResult lp = sampler.logProb(guided, x, xn, condS, 3);
            check.put("cond_s", condS);
            check.put("x_next", xn);
            check.put("logprob_step3", lp.logProb());
            check.put("mean_step3", lp.mean());
            try (Generator sg = Generator.create(99)) {
                StepOutput out = sampler.step(guided, x, condS, 3, sg);
                check.put("step3_next", out.next());
                check.put("step3_logprob", out.logProb());
            }
            TensorIO.save(dir.resolve("check.pt"), check);
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("imageSize", c.imageSize());
        cfg.put("modelWidth", c.modelWidth());
        cfg.put("tokens", policy.config().tokens());
        cfg.put("vocabSize", policy.config().vocabSize());
        cfg.put("groupSize", c.groupSize());
        cfg.put("groupsPerEpoch", c.groupsPerEpoch());
        cfg.put("samplerSteps", c.samplerSteps());
        cfg.put("shift", c.shift());
        cfg.put("noiseLevel", c.noiseLevel());
        cfg.put("guidanceScale", c.guidanceScale());
        cfg.put("detachUncond", c.detachUncond());
        cfg.put("trainStepFraction", c.trainStepFraction());
        cfg.put("clipRange", c.clipRange());
        cfg.put("advClip", c.advClip());
        cfg.put("lr", c.lr());
        cfg.put("beta1", c.beta1());
        cfg.put("beta2", c.beta2());
        cfg.put("weightDecay", c.weightDecay());
        cfg.put("gradClip", c.gradClip());
        cfg.put("microBatch", c.microBatch());
        cfg.put("seed", c.seed());
        cfg.put("beta", c.beta());
        cfg.put("sigmas", new FlowSdeSampler(c.samplerSteps(), c.shift(), c.noiseLevel()).schedule().sigmas());
        cfg.put("forward_macs_per_row", WorldModel.forwardMacs(c.imageSize(), c.modelWidth(), policy.config().tokens()));
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(cfg));
    }
}
