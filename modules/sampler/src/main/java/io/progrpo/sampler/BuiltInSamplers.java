package io.progrpo.sampler;

/**
 * The providers of the built-in samplers, registered in this module's descriptor: {@value #FLOW_SDE} (Flow-GRPO's
 * SDE, the ODE to evaluate) and {@value #DDIM} (DDIM-eta, eta = 0 to evaluate). They build exactly the samplers the
 * trainer's methods use by default.
 */
public final class BuiltInSamplers {
    /** The name of the flow SDE provider. */
    public static final String FLOW_SDE = "flow-sde";
    /** The name of the DDIM provider. */
    public static final String DDIM = "ddim";

    private BuiltInSamplers() {}

    /** {@link FlowSdeSampler}: {@code new FlowSdeSampler(T, shift, a)} to train, {@code FlowSdeSampler.ode(evalSteps, shift)} to evaluate. */
    public static final class FlowSde implements SamplerProvider {
        /** For ServiceLoader. */
        public FlowSde() {}

        @Override
        public String name() {
            return FLOW_SDE;
        }

        @Override
        public String description() {
            return "Flow-GRPO's SDE (noise level a, timestep shift k) to train, the Euler ODE to evaluate; velocity models";
        }

        @Override
        public Sampler trainSampler(SamplerSettings s) {
            return new FlowSdeSampler(s.steps(), s.shift(), s.noiseLevel());
        }

        @Override
        public Sampler evalSampler(SamplerSettings s) {
            return FlowSdeSampler.ode(s.evalSteps(), s.shift());
        }

        @Override
        public boolean supports(SamplerSettings.Prediction p) {
            return p == SamplerSettings.Prediction.VELOCITY;
        }
    }

    /** {@link DdimSampler}: {@code new DdimSampler(betas, T, eta)} to train, eta = 0 with evalSteps to evaluate. */
    public static final class Ddim implements SamplerProvider {
        /** For ServiceLoader. */
        public Ddim() {}

        @Override
        public String name() {
            return DDIM;
        }

        @Override
        public String description() {
            return "DDIM-eta (DanceGRPO; Stable Diffusion 1.x timesteps) to train, DDIM eta = 0 to evaluate; epsilon models";
        }

        @Override
        public Sampler trainSampler(SamplerSettings s) {
            return new DdimSampler(s.betas(), s.steps(), s.eta());
        }

        @Override
        public Sampler evalSampler(SamplerSettings s) {
            return new DdimSampler(s.betas(), s.evalSteps(), 0.0);
        }

        @Override
        public boolean supports(SamplerSettings.Prediction p) {
            return p == SamplerSettings.Prediction.EPSILON;
        }
    }
}
