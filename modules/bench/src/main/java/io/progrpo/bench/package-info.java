/**
 * JMH benchmarks of progrpo, run on the class path by {@code scripts/bench-ops} (see docs/benchmarks.md).
 *
 * <ul>
 *   <li>{@link io.progrpo.bench.TensorOpsBench}: per-op latency of the tensor module, compared there with the same ops
 *       in PyTorch eager ({@code bench/python/ops.py}) on the same libtorch.</li>
 *   <li>{@link io.progrpo.bench.AddOverheadBench}: where the time of a tiny op goes (downcalls, ledger, scope).</li>
 *   <li>{@link io.progrpo.bench.OvfBench}: the optimal-variance filter at growing group sizes.</li>
 * </ul>
 *
 * The forked JVM needs {@code --enable-native-access=io.progrpo.tensor,ALL-UNNAMED} (set by {@code @Fork}) and finds
 * the shim through {@code -Dprogrpo.shim.dir}, which JMH passes on from the launching JVM.
 */
package io.progrpo.bench;
