/** Flow-matching SDE/ODE and DDIM-eta samplers, per-step log-probs, x0 previews, trajectories and the sampler SPI. */
module io.progrpo.sampler {
    requires transitive io.progrpo.tensor;

    exports io.progrpo.sampler;

    uses io.progrpo.sampler.SamplerProvider;

    provides io.progrpo.sampler.SamplerProvider with
            io.progrpo.sampler.BuiltInSamplers.FlowSde,
            io.progrpo.sampler.BuiltInSamplers.DanceSde,
            io.progrpo.sampler.BuiltInSamplers.Cps,
            io.progrpo.sampler.BuiltInSamplers.Ddim;
}
