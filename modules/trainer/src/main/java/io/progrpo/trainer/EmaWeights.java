package io.progrpo.trainer;

import io.progrpo.tensor.Autograd;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.nn.Module;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * An exponential moving average of a module's trained parameters (those with {@code requiresGrad}; frozen base weights
 * under LoRA adapters are not averaged), updated after every optimizer step:
 * <pre>  ema_k = d ema_{k-1} + (1 - d) theta_k,   ema_0 = theta_0 (the parameters when the average starts)</pre>
 * {@link #withAverage} runs a computation (an evaluation) with the averaged values swapped into the module and puts
 * the raw values back afterwards, also when it throws. The averages are float32 copies owned by this object, kept in
 * the checkpoint ({@code ema.pt}, by parameter name) so a resumed run continues the same average.
 */
final class EmaWeights implements AutoCloseable {
    private final Module module;
    private final double decay;
    private final Map<String, Tensor> average = new LinkedHashMap<>();
    private boolean closed;

    /** Starts the average at the module's current trained parameters; {@code decay} in (0, 1). */
    EmaWeights(Module module, double decay) {
        if (!(decay > 0 && decay < 1)) throw new IllegalArgumentException("EMA decay must be in (0, 1), got " + decay);
        this.module = module;
        this.decay = decay;
        try (var ng = Autograd.noGrad()) {
            trained().forEach((name, p) -> average.put(name, p.detach().clone_().unscoped()));
        }
        if (average.isEmpty()) throw new IllegalArgumentException("the module has no trained parameter (requiresGrad) to average");
    }

    private Map<String, Tensor> trained() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        module.namedParameters().forEach((n, p) -> {
            if (p.requiresGrad()) out.put(n, p);
        });
        return out;
    }

    double decay() {
        return decay;
    }

    /** Restarts the average at the module's current trained parameters (a checkpoint without an average). */
    void reset() {
        checkOpen();
        Map<String, Tensor> now = trained();
        try (var ng = Autograd.noGrad()) {
            average.forEach((n, a) -> a.copyFrom(now.get(n)));
        }
    }

    /** ema = d ema + (1 - d) theta for every trained parameter, in place. */
    void update() {
        checkOpen();
        Map<String, Tensor> now = trained();
        try (var ng = Autograd.noGrad(); Scope s = Scope.open()) {
            for (Map.Entry<String, Tensor> e : average.entrySet()) {
                Tensor p = now.get(e.getKey());
                if (p == null) throw new IllegalStateException("parameter '" + e.getKey() + "' is no longer trained: the EMA cannot follow it");
                e.getValue().copyFrom(e.getValue().mul(decay).add(p.detach().mul(1 - decay)));
            }
        }
    }

    /**
     * Runs {@code work} with the averaged values in the module's trained parameters, then restores the raw values
     * (bit for bit: they are copied out first and back after), also when {@code work} throws.
     */
    <T> T withAverage(Supplier<T> work) {
        checkOpen();
        Map<String, Tensor> now = trained();
        Map<String, Tensor> raw = new LinkedHashMap<>();
        try (var ng = Autograd.noGrad()) {
            now.forEach((n, p) -> raw.put(n, p.detach().clone_().unscoped()));
            try {
                average.forEach((n, a) -> now.get(n).copyFrom(a));
                return work.get();
            } finally {
                raw.forEach((n, r) -> now.get(n).copyFrom(r));
                raw.values().forEach(Tensor::close);
            }
        }
    }

    /** The averages by parameter name (this object's tensors: do not close them). */
    Map<String, Tensor> state() {
        checkOpen();
        return java.util.Collections.unmodifiableMap(average);
    }

    /**
     * Replaces the averages by a checkpoint's (same names and shapes as the trained parameters).
     *
     * @throws IllegalArgumentException naming the parameter that is missing, extra or of another shape
     */
    void load(Map<String, Tensor> state) {
        checkOpen();
        if (!state.keySet().equals(average.keySet())) {
            throw new IllegalArgumentException("the EMA state names " + new java.util.TreeSet<>(state.keySet()) + ", the trained parameters are "
                    + new java.util.TreeSet<>(average.keySet()));
        }
        for (Map.Entry<String, Tensor> e : average.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("EMA of parameter '" + e.getKey() + "': expected shape " + Arrays.toString(e.getValue().shape())
                        + ", the state has " + Arrays.toString(src.shape()));
            }
        }
        try (var ng = Autograd.noGrad()) {
            average.forEach((n, a) -> a.copyFrom(state.get(n)));
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the EMA weights are closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        average.values().forEach(Tensor::close);
    }
}
