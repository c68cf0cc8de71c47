package io.progrpo.sampler;

import io.progrpo.tensor.Generator;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A step rule: each step is a Gaussian policy {@code pi_theta(x_next | x_t, c) = N(mu_theta(x_t, t, c), s_t^2 I)}
 * (a deterministic step when {@code s_t = 0}). Built in: {@link FlowSdeSampler} (Flow-GRPO) and {@link DdimSampler}
 * (DanceGRPO). Users write their own; module-info-docs/sampler.md shows one, with {@link GaussianPolicy} doing the
 * sampling and the log-prob.
 *
 * <p>Implementations compute in float32 whatever the model dtype, keep every tensor on the latents' device, and free
 * their intermediates (compute inside a {@link io.progrpo.tensor.Scope} and {@code keep} the outputs).
 */
public interface Sampler {

    /** Number of steps T. */
    int steps();

    /** The time fed to the model at step {@code stepIndex} (sigma for flow, the timestep value for DDIM). */
    double time(int stepIndex);

    /**
     * One step {@code stepIndex} (0-based) from {@code x}, with noise drawn from {@code gen} (null: libtorch's default
     * generator, not reproducible). Runs under the caller's grad mode (sampling runs under
     * {@link io.progrpo.tensor.Autograd#noGrad()}).
     */
    StepOutput step(VelocityModel model, Tensor x, Tensor cond, int stepIndex, Generator gen);

    /**
     * Re-evaluates a stored transition {@code x -> xNext} of step {@code stepIndex} under the model's current
     * parameters, with gradient. Equals the sampling-time log-prob bit for bit when the parameters have not changed
     * and the batch rows are the same.
     *
     * @throws IllegalArgumentException when the step is deterministic (it has no log-prob)
     */
    LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int stepIndex);

    /**
     * Re-evaluates stored transitions of DIFFERENT steps in one call: row {@code i} is a transition
     * {@code x[i] -> xNext[i]} of step {@code stepIndexPerRow[i]}. Row for row it equals
     * {@link #logProb(VelocityModel, Tensor, Tensor, Tensor, int)} of that row's step (the GRPO trainer batches the
     * (row, timestep) pairs of a prompt group into micro-batches with it). The result's {@code std} is per row.
     *
     * <p>This default groups the rows by step and calls the per-step method once per distinct step, so a custom
     * sampler works unchanged; the built-in samplers override it with one model forward over all rows (the model
     * takes a time per row).
     *
     * @throws IllegalArgumentException when {@code stepIndexPerRow} is null or its length is not x's rows, when a
     *                                  row's step is deterministic, or when xNext's shape differs from x's
     * @throws IndexOutOfBoundsException when a step index is outside {@code [0, steps())}
     */
    default LogProbResult logProb(VelocityModel model, Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        checkMixedSteps(x, xNext, cond, stepIndexPerRow);
        int first = stepIndexPerRow[0];
        if (Arrays.stream(stepIndexPerRow).allMatch(k -> k == first)) return logProb(model, x, xNext, cond, first);
        Map<Integer, List<Integer>> byStep = new LinkedHashMap<>();
        for (int i = 0; i < stepIndexPerRow.length; i++) {
            byStep.computeIfAbsent(stepIndexPerRow[i], k -> new ArrayList<>()).add(i);
        }
        try (Scope scope = Scope.open()) {
            List<Tensor> lps = new ArrayList<>();
            List<Tensor> means = new ArrayList<>();
            List<Tensor> stds = new ArrayList<>();
            long[] order = new long[stepIndexPerRow.length]; // the position of each original row in the grouped result
            int at = 0;
            for (Map.Entry<Integer, List<Integer>> group : byStep.entrySet()) {
                long[] rows = group.getValue().stream().mapToLong(Integer::longValue).toArray();
                for (long r : rows) order[(int) r] = at++;
                Tensor c = cond == null ? null : cond.indexSelect(0, rows);
                LogProbResult r = logProb(model, x.indexSelect(0, rows), xNext.indexSelect(0, rows), c, group.getKey());
                lps.add(r.logProb());
                means.add(r.mean());
                stds.add(r.std());
            }
            Tensor back = Tensor.of(order, order.length).to(x.device());
            Tensor lp = Tensor.cat(lps, 0).indexSelect(0, back);
            Tensor mean = Tensor.cat(means, 0).indexSelect(0, back);
            Tensor std = Tensor.cat(stds, 0).indexSelect(0, back);
            return new LogProbResult(lp, mean, std).keep(scope);
        }
    }

    /**
     * The checks of the mixed-step log-prob, for implementations: one step index per row, each in range and
     * stochastic, xNext shaped as x, cond (when given) with a row per row of x.
     */
    default void checkMixedSteps(Tensor x, Tensor xNext, Tensor cond, int[] stepIndexPerRow) {
        if (x == null || xNext == null) {
            throw new IllegalArgumentException("logProb needs x and xNext, got x " + x + ", xNext " + xNext);
        }
        if (stepIndexPerRow == null) throw new IllegalArgumentException("stepIndexPerRow must not be null");
        if (x.dim() < 1 || stepIndexPerRow.length != x.size(0) || stepIndexPerRow.length == 0) {
            throw new IllegalArgumentException("stepIndexPerRow has " + stepIndexPerRow.length
                    + " entries, expected one per row of x (" + (x.dim() < 1 ? "a scalar" : x.size(0) + " rows")
                    + "), at least one");
        }
        if (!Arrays.equals(x.shape(), xNext.shape())) {
            throw new IllegalArgumentException("xNext has shape " + Arrays.toString(xNext.shape())
                    + ", expected x's shape " + Arrays.toString(x.shape()));
        }
        if (cond != null && (cond.dim() < 1 || cond.size(0) != x.size(0))) {
            throw new IllegalArgumentException("cond has shape " + Arrays.toString(cond.shape()) + ", expected "
                    + x.size(0) + " rows (one per row of x)");
        }
        for (int i = 0; i < stepIndexPerRow.length; i++) {
            int k = stepIndexPerRow[i];
            if (k < 0 || k >= steps()) {
                throw new IndexOutOfBoundsException("row " + i + ": step index " + k + " out of range [0, " + steps() + ")");
            }
            if (!isStochastic(k)) {
                throw new IllegalArgumentException("row " + i + ": step " + k + " is deterministic (s_t = 0): it has no log-prob");
            }
        }
    }

    /**
     * The std that Flow-GRPO's code divides its KL term by at step {@code stepIndex}: the schedule's noise std
     * {@code std_t} without the step size (the policy std is {@code s_t = std_t sqrt(-dt)}; spec section 1). NaN, the
     * default, where a sampler has no such split: the trainer then divides by {@code s_t}, and the two KL forms agree.
     */
    default double klStd(int stepIndex) {
        checkStep(stepIndex);
        return Double.NaN;
    }

    /** Whether step {@code stepIndex} is stochastic (has a log-prob): false for ODE / eta = 0 steps. */
    boolean isStochastic(int stepIndex);

    /** Throws {@link IndexOutOfBoundsException} naming the step and T unless {@code 0 <= stepIndex < steps()}. */
    default void checkStep(int stepIndex) {
        if (stepIndex < 0 || stepIndex >= steps()) {
            throw new IndexOutOfBoundsException("step index " + stepIndex + " out of range [0, " + steps() + ")");
        }
    }
}
