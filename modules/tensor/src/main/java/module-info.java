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
}
