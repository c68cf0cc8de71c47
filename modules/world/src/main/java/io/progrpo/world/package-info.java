/**
 * The embedded benchmark world: a synthetic text-to-image task with no downloaded weights. 120 prompts ("a red
 * circle at the left") over a fixed {@link io.progrpo.world.Vocabulary}, a seeded train / held-out split
 * ({@link io.progrpo.world.PromptSet}), a fixed {@link io.progrpo.world.Tokenizer}, a ground-truth
 * {@link io.progrpo.world.Renderer} and the continuous {@link io.progrpo.world.PromptAlignment} score
 * that the {@code alignment} reward computes. Pure Java, deterministic given a seed.
 */
package io.progrpo.world;
