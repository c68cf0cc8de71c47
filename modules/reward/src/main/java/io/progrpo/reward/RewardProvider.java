package io.progrpo.reward;

/** Placeholder, replaced by the reward SPI. */
public interface RewardProvider {
}
