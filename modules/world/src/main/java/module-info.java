/**
 * The embedded benchmark world: a prompt grammar with its tokenizer, a renderer of target images, the rule-based
 * alignment reward, the world's velocity models, their pretraining and the base-model cache.
 */
module io.progrpo.world {
    requires transitive io.progrpo.sampler;
    requires transitive io.progrpo.reward;

    exports io.progrpo.world;
    exports io.progrpo.world.model;
    exports io.progrpo.world.scene;
    exports io.progrpo.world.scene.reward;
    exports io.progrpo.world.latent;

    provides io.progrpo.reward.RewardProvider with io.progrpo.world.AlignmentReward.Provider,
            io.progrpo.world.scene.SceneEvalReward.Provider,
            io.progrpo.world.scene.reward.ScenePreferenceReward.Provider;
}
