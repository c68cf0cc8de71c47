package io.progrpo.sampler;

/**
 * The providers of the built-in samplers, registered in this module's descriptor: {@value #FLOW_SDE} (Flow-GRPO's
 * SDE, the ODE to evaluate), {@value #DANCE_SDE} (the flow SDE with a constant noise level, DanceGRPO's),
 * {@value #CPS} (coefficients-preserving sampling) and {@value #DDIM} (DDIM-eta, eta = 0 to evaluate). flow-sde and
 * ddim build exactly the samplers the trainer's methods use by default; every flow sampler evaluates with the Euler ODE.
 */
public final class BuiltInSamplers {
    /** The name of the flow SDE provider. */
    public static final String FLOW_SDE = "flow-sde";
    /** The name of the DDIM provider. */
    public static final String DDIM = "ddim";
    /** The name of the constant-noise flow SDE provider. */
    public static final String DANCE_SDE = "dance-sde";
    /** The name of the coefficients-preserving sampler's provider. */
    public static final String CPS = "cps";

    private BuiltInSamplers() {}

    /**
     * The flow samplers' common provider: {@code new FlowSdeSampler(T, shift, a, dynamics)} to train,
     * {@code FlowSdeSampler.ode(evalSteps, shift)} to evaluate, velocity models only. Each public subclass fixes the
     * name, the dynamics and the description.
     */
    abstract static class FlowProvider implements SamplerProvider {
        private final String name;
        private final FlowSdeSampler.Dynamics dynamics;
        private final String description;

        FlowProvider(String name, FlowSdeSampler.Dynamics dynamics, String description) {
            this.name = name;
            this.dynamics = dynamics;
            this.description = description;
        }

        @Override
        public final String name() {
            return name;
        }

        @Override
        public final String description() {
            return description;
        }

        @Override
        public final Sampler trainSampler(SamplerSettings s) {
            return new FlowSdeSampler(s.steps(), s.shift(), s.noiseLevel(), dynamics);
        }

        @Override
        public final Sampler evalSampler(SamplerSettings s) {
            return FlowSdeSampler.ode(s.evalSteps(), s.shift());
        }

        @Override
        public final boolean supports(SamplerSettings.Prediction p) {
            return p == SamplerSettings.Prediction.VELOCITY;
        }
    }

    /** {@link FlowSdeSampler}: {@code new FlowSdeSampler(T, shift, a)} (Flow-GRPO's SDE) to train, the Euler ODE to evaluate. */
    public static final class FlowSde extends FlowProvider {
        /** For ServiceLoader. */
        public FlowSde() {
            super(FLOW_SDE, FlowSdeSampler.Dynamics.FLOW_SDE,
                    "Flow-GRPO's SDE (noise level a, timestep shift k) to train, the Euler ODE to evaluate; velocity models");
        }
    }

    /** {@code FlowSdeSampler(T, shift, a, DANCE_SDE)} to train (std_t = a), the Euler ODE to evaluate. */
    public static final class DanceSde extends FlowProvider {
        /** For ServiceLoader. */
        public DanceSde() {
            super(DANCE_SDE, FlowSdeSampler.Dynamics.DANCE_SDE,
                    "the flow SDE with a constant noise level std_t = a (DanceGRPO's) to train, the Euler ODE to evaluate; velocity models");
        }
    }

    /** {@code FlowSdeSampler(T, shift, a, CPS)} to train (s_t = sigma_next sin(a pi / 2), a in [0, 1]), the Euler ODE to evaluate. */
    public static final class Cps extends FlowProvider {
        /** For ServiceLoader. */
        public Cps() {
            super(CPS, FlowSdeSampler.Dynamics.CPS, "coefficients-preserving sampling (s_t = sigma_next sin(a pi / 2), "
                    + "a = noiseLevel in [0, 1]) to train, the Euler ODE to evaluate; velocity models");
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
