/**
 * Off-heap libtorch tensors through the Foreign Function &amp; Memory API: ops, autograd, {@code nn} modules,
 * optimizers, thread-confined scopes and a memory ledger. The only module of progrpo with native access; run with
 * {@code --enable-native-access=io.progrpo.tensor}.
 */
module io.progrpo.tensor {
    exports io.progrpo.tensor;
    exports io.progrpo.tensor.nn;
    exports io.progrpo.tensor.optim;
    exports io.progrpo.tensor.distributed;
    exports io.progrpo.tensor.jit;
    exports io.progrpo.tensor.files;
    exports io.progrpo.tensor.spi;
    exports io.progrpo.tensor.jfr;

    // Flight Recorder events of memory and phases (io.progrpo.*); recorded only when a recording enables them
    requires jdk.jfr;

    // A natives jar (io.progrpo:progrpo-natives with a platform classifier) that carries the built shim.
    uses io.progrpo.tensor.spi.NativeLibraryProvider;
}
