package io.progrpo.sampler;

import io.progrpo.tensor.DType;
import io.progrpo.tensor.Device;
import io.progrpo.tensor.Scope;
import io.progrpo.tensor.Tensor;
import io.progrpo.tensor.jit.ScriptModule;
import io.progrpo.tensor.nn.Module;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@link VelocityModel} backed by a TorchScript module: {@code v = module.method(x, t * timeScale, cond[, adapterScale])}
 * with {@code x [B, ...]}, {@code t [B]} float32, {@code cond} the conditioning tensor (e.g. token ids {@code [B, L]}
 * int64, or prompt embeddings) or {@code None}. It is an {@link Module} whose parameters are the TorchScript
 * parameters selected as trainable (e.g. every name containing {@code lora_}), registered as aliases: an optimizer
 * over {@link #parameters()} trains the script module in place, and every other parameter is frozen
 * (requires_grad false). So {@code GrpoTrainer} takes it as its policy unchanged.
 *
 * <p>A reference policy for the KL term ({@link #reference(ReferenceMode)}) is either
 * <ul>
 *   <li>{@link ReferenceMode#ADAPTERS_DISABLED}: the same module called with adapter scale 0, so the base model's
 *       output at no extra memory (needs {@link Options#passAdapterScale()} and a module whose adapters honour it);</li>
 *   <li>{@link ReferenceMode#FROZEN_COPY}: an independent frozen copy of the module as it is now (one more model in
 *       memory; works for any module, and for full fine-tuning).</li>
 * </ul>
 * The export recipe and the shapes this class expects are in docs/torchscript.md.
 */
public final class TorchScriptVelocityModel extends Module implements VelocityModel {
    /**
     * How the module is called.
     *
     * @param method            the method to call (usually {@code forward})
     * @param timeScale         multiplies the sampler's time before the call (1 for sigma in [0, 1]; 1000 for
     *                          models trained on {@code t = 1000 sigma}, as SD3 in Flow-GRPO)
     * @param passAdapterScale  pass the adapter scale (1.0 for the policy, 0.0 for the adapters-disabled reference)
     *                          as a fourth argument
     */
    public record Options(String method, double timeScale, boolean passAdapterScale) {
        /** forward(x, t, cond), sigma unscaled, no adapter-scale argument. */
        public static final Options DEFAULTS = new Options("forward", 1.0, false);

        public Options {
            if (method == null || method.isBlank()) throw new IllegalArgumentException("method must be a method name, got '" + method + "'");
            if (!(timeScale > 0) || Double.isInfinite(timeScale)) throw new IllegalArgumentException("timeScale must be finite and > 0, got " + timeScale);
        }

        public Options withTimeScale(double s) {
            return new Options(method, s, passAdapterScale);
        }

        public Options withAdapterScale(boolean pass) {
            return new Options(method, timeScale, pass);
        }
    }

    /** Which reference policy {@link #reference(ReferenceMode)} builds. */
    public enum ReferenceMode {
        /** The same module with its adapters off (adapter scale 0): no extra memory. */
        ADAPTERS_DISABLED,
        /** A frozen deep copy of the module: one more model in memory. */
        FROZEN_COPY,
        /** ADAPTERS_DISABLED when the adapter scale is passed, else FROZEN_COPY. */
        AUTO
    }

    private final ScriptModule script;
    private final boolean ownsScript;
    private final boolean sharedView;
    private final Options options;
    private final double adapterScale;

    private TorchScriptVelocityModel(ScriptModule script, boolean ownsScript, boolean sharedView, Options options,
                                     double adapterScale, Map<String, Tensor> trainable) {
        this.script = script;
        this.ownsScript = ownsScript;
        this.sharedView = sharedView;
        this.options = options;
        this.adapterScale = adapterScale;
        script.requireMethod(options.method());
        // own handles: closing this model must not close the handles the script module hands out
        script.newParameterAliases(trainable.keySet()).forEach(this::registerParameterAlias);
    }

    /**
     * A policy over {@code script} (borrowed: the caller closes it after this model) whose trainable parameters are
     * the ones whose dotted name matches {@code trainablePattern} (a regular expression found anywhere in the name;
     * {@code "lora_"} selects LoRA adapters, {@code ".*"} every parameter); all other parameters are frozen.
     *
     * @throws IllegalArgumentException naming the file and the pattern when it selects no parameter, or naming the
     *                                  file and the method when the module has no such method
     */
    public static TorchScriptVelocityModel of(ScriptModule script, String trainablePattern, Options options) {
        if (script == null) throw new IllegalArgumentException("script module is null");
        if (options == null) throw new IllegalArgumentException("options are null");
        script.requireMethod(options.method());
        return new TorchScriptVelocityModel(script, false, false, options, 1.0, script.selectTrainable(trainablePattern));
    }

    /** Loads {@code file} on {@code device} and builds the policy over it (the model owns and closes the module). */
    public static TorchScriptVelocityModel load(Path file, Device device, String trainablePattern, Options options) throws IOException {
        ScriptModule s = ScriptModule.load(file, device);
        try {
            if (options == null) throw new IllegalArgumentException("options are null");
            s.requireMethod(options.method());
            return new TorchScriptVelocityModel(s, true, false, options, 1.0, s.selectTrainable(trainablePattern));
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The underlying module (e.g. to save it or its adapters). */
    public ScriptModule scriptModule() {
        return script;
    }

    public Options options() {
        return options;
    }

    /** 1.0 for the policy, 0.0 for an adapters-disabled reference. */
    public double adapterScale() {
        return adapterScale;
    }

    /**
     * A reference policy (no trainable parameters) for the KL term; see the class comment. The reference of
     * {@link ReferenceMode#ADAPTERS_DISABLED} shares this model's module (close it before or with this model; its
     * {@code train}/{@code eval} leave the shared module's mode alone); a {@link ReferenceMode#FROZEN_COPY} owns its copy.
     *
     * @throws IllegalArgumentException for ADAPTERS_DISABLED when the adapter scale is not passed to the module
     */
    public TorchScriptVelocityModel reference(ReferenceMode mode) {
        ReferenceMode m = mode == ReferenceMode.AUTO
                ? (options.passAdapterScale() ? ReferenceMode.ADAPTERS_DISABLED : ReferenceMode.FROZEN_COPY) : mode;
        if (m == ReferenceMode.ADAPTERS_DISABLED) {
            if (!options.passAdapterScale()) {
                throw new IllegalArgumentException("an adapters-disabled reference of " + script.file() + " needs Options.passAdapterScale "
                        + "(the module takes an adapter scale after cond); use FROZEN_COPY otherwise");
            }
            return new TorchScriptVelocityModel(script, false, true, options, 0.0, Map.of());
        }
        ScriptModule copy = script.deepCopy();
        try {
            copy.requiresGrad(false).eval();
            return new TorchScriptVelocityModel(copy, true, false, options, adapterScale, Map.of());
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    @Override
    public Tensor predict(Tensor x, Tensor t, Tensor cond) {
        if (options.timeScale() == 1.0) return call(x, t, cond);
        try (Scope s = Scope.open()) {
            return s.keep(call(x, t.mul(options.timeScale()), cond));
        }
    }

    private Tensor call(Tensor x, Tensor t, Tensor cond) {
        return options.passAdapterScale()
                ? script.callTensor(options.method(), x, t, cond, adapterScale)
                : script.callTensor(options.method(), x, t, cond);
    }

    /** Sets the mode here and on the script module (an adapters-disabled view leaves the shared module's mode alone). */
    @Override
    public Module train(boolean on) {
        super.train(on);
        if (!sharedView) script.train(on);
        return this;
    }

    /** Not supported: the parameters alias the script module's; load the module on the target device instead. */
    @Override
    public Module to(Device device, DType dtype) {
        throw new UnsupportedOperationException("a TorchScript-backed model stays on " + script.device()
                + " (its parameters alias the module's); load " + script.file() + " on " + device + " instead");
    }

    /** Closes the parameter aliases, and the script module when this model owns it. Idempotent. */
    @Override
    public void close() {
        super.close();
        if (ownsScript) script.close();
    }
}
