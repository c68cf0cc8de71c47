package io.progrpo.app;

import io.progrpo.reward.RewardFunction;
import io.progrpo.reward.RewardOutput;
import io.progrpo.sampler.ForwardingSampler;
import io.progrpo.sampler.LogProbResult;
import io.progrpo.sampler.Sampler;
import io.progrpo.sampler.StepOutput;
import io.progrpo.sampler.VelocityModel;
import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records what a real {@code GrpoTrainer} epoch computes, for the latent peer's check ({@link LatentPeerExport}): a
 * {@link ForwardingSampler} that delegates every call and keeps copies of each sampling step's input, mean, next latents and
 * log-prob and of each training log-prob call's inputs and result, and a {@link RewardFunction} that keeps the images
 * it scored, their prompts and the scores. The copies are named {@code e<epoch>.<what>} in {@link #tensors()}, which
 * the caller closes.
 */
final class PeerRecorder extends ForwardingSampler {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<Integer, List<String>> prompts = new LinkedHashMap<>();
    private int epoch = -1;
    private int trainCalls;

    PeerRecorder(Sampler inner) {
        super(inner);
    }

    /** From now on the calls belong to epoch {@code e}. */
    void epoch(int e) {
        epoch = e;
        trainCalls = 0;
    }

    /** The recorded copies by name (the caller closes them). */
    Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The prompts of each row that the reward scored, per epoch. */
    Map<Integer, List<String>> prompts() {
        return prompts;
    }

    /** Training log-prob calls recorded in the current epoch. */
    int trainCalls() {
        return trainCalls;
    }

    private void put(String name, Tensor t) {
        if (epoch < 0) throw new IllegalStateException("PeerRecorder.epoch(e) must be called before the epoch runs");
        Tensor old = tensors.put("e" + epoch + "." + name, copy(t));
        if (old != null) throw new IllegalStateException("recorded e" + epoch + "." + name + " twice");
    }

    /** A detached copy of {@code t} that the caller owns (the detached alias is freed here). */
    static Tensor copy(Tensor t) {
        try (io.progrpo.tensor.Scope s = io.progrpo.tensor.Scope.open()) {
            return t.detach().clone_().unscoped();
        }
    }

    @Override
    public StepOutput step(VelocityModel m, Tensor x, Tensor cond, int i, Generator gen) {
        StepOutput out = super.step(m, x, cond, i, gen);
        if (i == 0) put("cond", cond);
        put("s" + i + ".x", x);
        put("s" + i + ".mean", out.mean());
        put("s" + i + ".next", out.next());
        if (out.logProb() != null) put("s" + i + ".logp", out.logProb());
        return out;
    }

    @Override
    public LogProbResult logProb(VelocityModel m, Tensor x, Tensor xNext, Tensor cond, int i) {
        return record(super.logProb(m, x, xNext, cond, i), x, xNext, cond, filled(x.size(0), i));
    }

    @Override
    public LogProbResult logProb(VelocityModel m, Tensor x, Tensor xNext, Tensor cond, int[] steps) {
        return record(super.logProb(m, x, xNext, cond, steps), x, xNext, cond, steps);
    }

    private LogProbResult record(LogProbResult r, Tensor x, Tensor xNext, Tensor cond, int[] steps) {
        String p = "t" + trainCalls++ + ".";
        put(p + "x", x);
        put(p + "xn", xNext);
        put(p + "cond", cond);
        try (Tensor s = Tensor.of(steps, steps.length)) {
            put(p + "steps", s);
        }
        put(p + "logp", r.logProb());
        return r;
    }

    private static int[] filled(long n, int v) {
        int[] a = new int[(int) n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** {@code reward} with every call's images and scores recorded (one scoring call per epoch: the final images). */
    RewardFunction reward(RewardFunction reward) {
        return new RewardFunction() {
            @Override
            public String name() {
                return reward.name();
            }

            @Override
            public RewardOutput score(Tensor images, List<String> p) {
                RewardOutput out = reward.score(images, p);
                put("images", images);
                try (Tensor s = Tensor.of(out.scores(), out.scores().length)) {
                    put("rewards", s);
                }
                prompts.put(epoch, new ArrayList<>(p));
                return out;
            }
        };
    }
}
