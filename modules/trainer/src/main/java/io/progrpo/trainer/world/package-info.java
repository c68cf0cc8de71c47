/**
 * The generator of the embedded synthetic world: {@link io.progrpo.trainer.world.WorldModel}, a small pixel-space
 * UNet that implements the sampler's {@link io.progrpo.sampler.VelocityModel}, its flow-matching or epsilon
 * pretraining ({@link io.progrpo.trainer.world.Pretrainer}) and the cached base checkpoints that GRPO starts from
 * ({@link io.progrpo.trainer.world.BaseModels}).
 */
package io.progrpo.trainer.world;
