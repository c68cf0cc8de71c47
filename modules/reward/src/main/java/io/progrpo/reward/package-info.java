/**
 * The reward SPI and its machinery. A {@link io.progrpo.reward.RewardFunction} scores a batch of images with their
 * prompts (and, through its group-aware entry point, their prompt groups); {@link io.progrpo.reward.RewardProvider}s
 * make rewards discoverable by name through {@link java.util.ServiceLoader} ({@link io.progrpo.reward.RewardRegistry});
 * {@link io.progrpo.reward.MultiReward} combines weighted rewards (weighted sum, or DanceGRPO's sum of group-normalised
 * advantages) and is itself a reward; {@link io.progrpo.reward.GroupAdvantages} computes GRPO's group advantages and
 * within-group std for every module; {@link io.progrpo.reward.AsyncReward} scores on a worker thread. Built-ins:
 * {@code jpeg_compressibility}, {@code jpeg_incompressibility} (DDPO) and {@code alignment} (the benchmark world of
 * {@code io.progrpo.world}).
 */
package io.progrpo.reward;
