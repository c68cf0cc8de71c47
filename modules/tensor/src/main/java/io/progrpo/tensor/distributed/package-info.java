/**
 * Data-parallel process groups over libtorch's c10d: a TCP store rendezvous hosted by rank 0, Gloo on CPU and NCCL on
 * CUDA (where the libtorch build has it), and synchronous collectives with a timeout. {@link
 * io.progrpo.tensor.distributed.Rendezvous#fromEnvironment()} reads the conventional variables (RANK, WORLD_SIZE,
 * LOCAL_RANK, MASTER_ADDR, MASTER_PORT) that torchrun, Slurm wrappers and {@code scripts/launch-local} set.
 */
package io.progrpo.tensor.distributed;
