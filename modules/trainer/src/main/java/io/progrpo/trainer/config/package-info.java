/**
 * Run configuration: {@link io.progrpo.trainer.config.TrainConfig} (one validated record with every knob of a run),
 * its named presets and overlays, overrides from JSON files and {@code key=value} strings, and the derived totals
 * (trajectories sampled and trained, model evaluations) printed before the first step.
 */
package io.progrpo.trainer.config;
