/**
 * Samplers for GRPO on generators: each denoising step is a Gaussian policy
 * {@code pi_theta(x_next | x_t, c) = N(mu_theta, s_t^2 I)} whose log-prob (averaged over latent elements) is
 * recorded at sampling time and recomputed with gradient at training time.
 * <ul>
 *   <li>{@link io.progrpo.sampler.VelocityModel}: the network as a function of tensors; {@link io.progrpo.sampler.ClassifierFreeGuidance} wraps one.</li>
 *   <li>{@link io.progrpo.sampler.Sampler}: the step rule SPI; {@link io.progrpo.sampler.FlowSdeSampler} (Flow-GRPO SDE / Euler ODE),
 *       {@link io.progrpo.sampler.DdimSampler} (DanceGRPO DDIM-eta); {@link io.progrpo.sampler.GaussianPolicy} helps write others.</li>
 *   <li>{@link io.progrpo.sampler.Trajectory}: stored transitions, prunable row by row; {@link io.progrpo.sampler.SamplingLoop}, the one sampling loop, fills one
 *       (a step hook may prune the active rows after any step).</li>
 * </ul>
 */
package io.progrpo.sampler;
