package io.progrpo.sampler;

import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;

import java.util.Objects;

/**
 * A stored transition re-evaluated under the model's current parameters, with gradient: the log-prob for the
 * GRPO ratio {@code exp(logp_theta - logp_old)} and the policy mean for the KL term
 * {@code (mu_theta - mu_ref)^2 / (2 sigma_t^2)}.
 *
 * @param logProb {@code [B]}, averaged over each row's elements
 * @param mean    the policy mean {@code [B, ...]}
 * @param std     the per-row policy std {@code s_t} {@code [B]}
 */
public record LogProbResult(Tensor logProb, Tensor mean, Tensor std) implements AutoCloseable {

    public LogProbResult {
        Objects.requireNonNull(logProb, "logProb");
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
    }

    /** Moves the three tensors out of {@code scope} (to its enclosing scope, or to the caller). Returns this. */
    public LogProbResult keep(Scope scope) {
        scope.keep(logProb);
        scope.keep(mean);
        scope.keep(std);
        return this;
    }

    @Override
    public void close() {
        logProb.close();
        mean.close();
        std.close();
    }
}
