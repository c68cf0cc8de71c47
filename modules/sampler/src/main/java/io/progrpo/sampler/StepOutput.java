package io.progrpo.sampler;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Set;

/**
 * One sampler step's result for a batch of B rows; all tensors float32 on the latents' device.
 *
 * @param next        the next latents {@code x_next = mean + std * eps} ({@code [B, ...]})
 * @param mean        the policy mean {@code mu_theta(x_t, t, c)} ({@code [B, ...]})
 * @param std         the per-row policy std {@code s_t} ({@code [B]}; zeros for a deterministic step)
 * @param logProb     {@code log pi(next | x_t)} averaged over each row's elements ({@code [B]}); null for a
 *                    deterministic step (ODE, eta = 0), which has no density
 * @param x0Preview   the one-step estimate of the clean sample from this step's own model output (may be null for
 *                    a custom sampler that has none)
 * @param modelOutput the model output used (velocity or epsilon, float32; may be null for a custom sampler)
 */
public record StepOutput(Tensor next, Tensor mean, Tensor std, Tensor logProb, Tensor x0Preview, Tensor modelOutput)
        implements AutoCloseable {

    public StepOutput {
        Objects.requireNonNull(next, "next");
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
    }

    /** Number of rows B. */
    public int rows() {
        return (int) next.size(0);
    }

    /** Whether this step has a log-prob (a stochastic step). */
    public boolean isStochastic() {
        return logProb != null;
    }

    /**
     * Moves every tensor of this output out of {@code scope} (to its enclosing scope, or to the caller), each distinct
     * tensor once. For step implementations that compute inside their own scope. Returns this.
     */
    public StepOutput keep(Scope scope) {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : new Tensor[] {next, mean, std, logProb, x0Preview, modelOutput}) {
            if (t != null && seen.add(t)) scope.keep(t);
        }
        return this;
    }

    /** Frees every tensor of this output (idempotent). */
    @Override
    public void close() {
        for (Tensor t : new Tensor[] {next, mean, std, logProb, x0Preview, modelOutput}) {
            if (t != null) t.close();
        }
    }
}
