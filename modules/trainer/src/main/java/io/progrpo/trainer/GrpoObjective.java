package io.progrpo.trainer;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

/**
 * The clipped GRPO surrogate for one trained step of a batch of rows (spec section 1):
 * <pre>
 *   ratio       = exp(logp_theta - logp_old)
 *   policy_loss = mean_i max(-A_i * ratio_i, -A_i * clip(ratio_i, 1 - eps, 1 + eps))
 *   kl          = mean_i mean_elements (mu_theta - mu_ref)^2 / (2 d_i^2)
 *   loss        = policy_loss + beta * kl
 * </pre>
 * The divisor {@code d_i} is the caller's: {@link KlForm#CODE} (Flow-GRPO's code, the default) passes the schedule's
 * {@code std_t} ({@link io.progrpo.sampler.Sampler#klStd}), {@link KlForm#POLICY} the policy std
 * {@code s_t = std_t sqrt(-dt)}, which makes the term {@code 1/|dt|} larger (10x at T = 10).
 * The log-probs are the per-row means over latent elements, which is what the tiny clip range is calibrated to.
 */
public final class GrpoObjective {
    private final double clipRange;
    private final double beta;

    /** What the KL term divides by: Flow-GRPO's code form (std_t, the default) or the policy std s_t. */
    public enum KlForm {
        CODE, POLICY;

        /** The form of a config value, {@code code} or {@code policy}. */
        public static KlForm of(String name) {
            return switch (name) {
                case "code" -> CODE;
                case "policy" -> POLICY;
                default -> throw new IllegalArgumentException("klForm must be 'code' or 'policy', got '" + name + "'");
            };
        }
    }

    /**
     * The importance ratio of the surrogate: the plain {@code exp(logp_theta - logp_old)}, or GRPO-Guard's regulated
     * ratio (Wang et al. 2025, arXiv 2510.22319, as X-GenGroup/Flow-Factory computes it):
     * <pre>
     *   log r_guard = s * (logp_theta - logp_old) + mean_elements((mu_theta - mu_old)^2) / (2 s)
     *               = mean_elements(eps * (mu_theta - mu_old)),   eps = (x_next - mu_old) / s
     * </pre>
     * with {@code s} the step's policy std. The plain log-ratio is {@code mean(eps d)/s - mean(d^2)/(2 s^2)}
     * ({@code d = mu_theta - mu_old}): its mean under the sampling policy is below 0 and its spread grows as
     * {@code 1/s} at low-noise steps; the regulated one is centred at 0 and without the {@code 1/s} scale, so the clip
     * acts alike at every step and no step's gradient dominates.
     */
    public enum RatioNorm {
        NONE, GRPO_GUARD;

        /** The form of a config value, {@code none} or {@code grpo-guard}. */
        public static RatioNorm of(String name) {
            return switch (name) {
                case "none" -> NONE;
                case "grpo-guard" -> GRPO_GUARD;
                default -> throw new IllegalArgumentException("ratioNorm must be 'none' or 'grpo-guard', got '" + name + "'");
            };
        }
    }

    /**
     * GRPO-Guard's regulated log-ratio per row ({@link RatioNorm#GRPO_GUARD}).
     *
     * @param logProb    [B] current log-probs (with gradient)
     * @param oldLogProb [B] sampling-time log-probs
     * @param mean       current policy mean [B, ...] (with gradient)
     * @param oldMean    sampling-time policy mean [B, ...]
     * @param std        [B] the policy std s of each row's step (all > 0)
     */
    public static Tensor guardLogRatio(Tensor logProb, Tensor oldLogProb, Tensor mean, Tensor oldMean, Tensor std) {
        if (!java.util.Arrays.equals(mean.shape(), oldMean.shape())) {
            throw new IllegalArgumentException("GRPO-Guard needs the sampling-time mean of the current mean's shape "
                    + java.util.Arrays.toString(mean.shape()) + ", got " + java.util.Arrays.toString(oldMean.shape()));
        }
        try (Scope s = Scope.open()) {
            long b = mean.size(0);
            Tensor mse = mean.sub(oldMean.to(io.progrpo.tensor.DType.FLOAT32)).square().reshape(b, -1).mean(false, 1);
            Tensor r = logProb.sub(oldLogProb).mul(std).add(mse.div(std.mul(2)));
            return s.keep(r);
        }
    }

    /** Loss (a scalar tensor with gradient) and its parts as plain numbers for the metrics. */
    public record Parts(Tensor loss, double policyLoss, double kl, double clipFraction, double meanRatio) implements AutoCloseable {
        @Override
        public void close() {
            loss.close();
        }
    }

    public GrpoObjective(double clipRange, double beta) {
        if (!(clipRange > 0 && clipRange < 1)) throw new IllegalArgumentException("clipRange must be in (0, 1), got " + clipRange);
        if (!(beta >= 0) || Double.isInfinite(beta)) throw new IllegalArgumentException("beta (KL weight) must be finite and >= 0, got " + beta);
        this.clipRange = clipRange;
        this.beta = beta;
    }

    public double clipRange() {
        return clipRange;
    }

    public double beta() {
        return beta;
    }

    /**
     * @param logProb    [B] log-probs under the current parameters (with gradient)
     * @param oldLogProb [B] log-probs stored at sampling time
     * @param advantages [B] group advantages
     * @param mean       policy mean under the current parameters (needed only when beta > 0)
     * @param refMean    policy mean of the frozen reference (null when beta == 0)
     * @param std        [B] the KL divisor d_i per row (std_t or s_t, see {@link KlForm}; needed only when beta > 0)
     */
    public Parts loss(Tensor logProb, Tensor oldLogProb, Tensor advantages, Tensor mean, Tensor refMean, Tensor std) {
        if (logProb.numel() != oldLogProb.numel() || logProb.numel() != advantages.numel()) {
            throw new IllegalArgumentException("logProb, oldLogProb and advantages need one value per row, got "
                    + logProb + ", " + oldLogProb + ", " + advantages);
        }
        try (Scope s = Scope.open()) {
            return lossOfLogRatio(logProb.sub(oldLogProb), advantages, mean, refMean, std, s);
        }
    }

    /**
     * {@link #loss} with a given log-ratio per row {@code [B]} (with gradient), such as
     * {@link #guardLogRatio GRPO-Guard's}; the other arguments as there.
     */
    public Parts lossOfLogRatio(Tensor logRatio, Tensor advantages, Tensor mean, Tensor refMean, Tensor std) {
        if (logRatio.numel() != advantages.numel()) {
            throw new IllegalArgumentException("logRatio and advantages need one value per row, got " + logRatio + ", " + advantages);
        }
        try (Scope s = Scope.open()) {
            return lossOfLogRatio(logRatio, advantages, mean, refMean, std, s);
        }
    }

    private Parts lossOfLogRatio(Tensor logRatio, Tensor advantages, Tensor mean, Tensor refMean, Tensor std, Scope s) {
        Tensor ratio = logRatio.exp();
        Tensor negA = advantages.neg();
        Tensor unclipped = negA.mul(ratio);
        Tensor clipped = negA.mul(ratio.clamp(1 - clipRange, 1 + clipRange));
        Tensor policy = unclipped.maximum(clipped).mean();
        Tensor loss = policy;
        double kl = 0;
        if (beta > 0) {
            if (refMean == null || mean == null || std == null) throw new IllegalArgumentException("beta > 0 needs mean, refMean and std");
            long b = mean.size(0);
            Tensor sq = mean.sub(refMean).square().reshape(b, -1).mean(false, 1);
            Tensor klRows = sq.div(std.square().mul(2));
            Tensor klMean = klRows.mean();
            kl = klMean.item();
            loss = policy.add(klMean.mul(beta));
        }
        double clipFrac;
        double meanRatio;
        try (var ng = io.progrpo.tensor.Autograd.noGrad()) {
            Tensor dev = ratio.sub(1).abs().gt(clipRange).to(io.progrpo.tensor.DType.FLOAT32).mean();
            clipFrac = dev.item();
            meanRatio = ratio.mean().item();
        }
        double pl = policy.item();
        return new Parts(s.keep(loss), pl, kl, clipFrac, meanRatio);
    }
}
