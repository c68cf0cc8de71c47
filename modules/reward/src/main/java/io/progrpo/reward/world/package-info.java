/** The embedded benchmark world: prompts, vocabulary and the ground-truth renderer. */
package io.progrpo.reward.world;
