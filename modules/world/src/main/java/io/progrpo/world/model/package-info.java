/**
 * The generator of the embedded synthetic world: {@link io.progrpo.world.model.WorldModel}, a small pixel-space
 * UNet that implements the sampler's {@link io.progrpo.sampler.VelocityModel}, its flow-matching or epsilon
 * pretraining ({@link io.progrpo.world.model.Pretrainer}) and the cached base checkpoints that GRPO starts from
 * ({@link io.progrpo.world.model.BaseModels}).
 */
package io.progrpo.world.model;
