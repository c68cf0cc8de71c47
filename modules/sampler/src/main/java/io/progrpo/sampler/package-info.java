/** Samplers, trajectories and the VelocityModel / Sampler SPI. */
package io.progrpo.sampler;
