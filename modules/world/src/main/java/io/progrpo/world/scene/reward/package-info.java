/**
 * The scene world's learned preference-style reward: an image encoder and a text encoder trained contrastively
 * (InfoNCE with a learned temperature and hard-negative captions) on rendered scenes, scored as a scaled cosine
 * similarity like PickScore or a CLIP score, cached by configuration hash.
 */
package io.progrpo.world.scene.reward;
