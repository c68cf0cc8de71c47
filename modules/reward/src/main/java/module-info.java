/** The reward SPI (ServiceLoader), built-in rewards, weighted multi-reward and asynchronous scoring. */
module io.progrpo.reward {
    requires transitive io.progrpo.tensor;
    requires java.desktop;

    exports io.progrpo.reward;
    // exports io.progrpo.reward.world; (added with the first class)

    uses io.progrpo.reward.RewardProvider;
}
