/**
 * The reward SPI (ServiceLoader), built-in rewards, weighted multi-reward, asynchronous scoring.
 */
module io.progrpo.reward {
    requires transitive io.progrpo.tensor;
    // the HTTP reward: its client and its JSON protocol
    requires java.net.http;
    requires com.fasterxml.jackson.databind;
    // ImageIO (JPEG rewards) and plots only: optional at run time, so a jlink image without java.desktop (the GPU
    // bundle) can train; launchers add it with --add-modules java.desktop.
    requires static java.desktop;

    exports io.progrpo.reward;

    uses io.progrpo.reward.RewardProvider;

    provides io.progrpo.reward.RewardProvider with
            io.progrpo.reward.JpegSizeReward.CompressibilityProvider,
            io.progrpo.reward.JpegSizeReward.IncompressibilityProvider;
}
