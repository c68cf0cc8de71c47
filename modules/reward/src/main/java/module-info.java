/**
 * The reward SPI (ServiceLoader), built-in rewards, weighted multi-reward, asynchronous scoring, and the embedded
 * benchmark world (prompts, renderer, alignment score).
 */
module io.progrpo.reward {
    requires transitive io.progrpo.tensor;
    requires java.desktop;

    exports io.progrpo.reward;
    exports io.progrpo.reward.world;

    uses io.progrpo.reward.RewardProvider;

    provides io.progrpo.reward.RewardProvider with
            io.progrpo.reward.AlignmentReward.Provider,
            io.progrpo.reward.JpegSizeReward.CompressibilityProvider,
            io.progrpo.reward.JpegSizeReward.IncompressibilityProvider;
}
