/** The RewardFunction SPI, its registry, built-in rewards and multi-reward aggregation. */
package io.progrpo.reward;
