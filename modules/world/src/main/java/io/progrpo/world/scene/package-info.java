/**
 * The scene world: 32 x 32 (or larger) RGB scenes of one or two objects, or a counted group, on varied dim
 * backgrounds; a prompt grammar of 4036 prompts in GenEval's categories ({@link io.progrpo.world.scene.SceneGrammar},
 * {@link io.progrpo.world.scene.ScenePrompt}) with a held-out split of unseen combinations
 * * ({@link io.progrpo.world.scene.SceneSplit}), a word tokenizer ({@link io.progrpo.world.scene.SceneTokenizer}) and the
 * renderer ({@link io.progrpo.world.scene.SceneRenderer}). Pure Java, deterministic given a seed.
 */
package io.progrpo.world.scene;
