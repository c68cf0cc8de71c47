/**
 * Data-parallel process groups over libtorch's c10d: a TCP store rendezvous hosted by rank 0, Gloo on CPU and NCCL on
 * CUDA (where the libtorch build has it), and synchronous collectives with a timeout. {@link
 * io.progrpo.tensor.distributed.Rendezvous#fromEnvironment()} reads the conventional variables (RANK, WORLD_SIZE,
 * LOCAL_RANK, MASTER_ADDR, MASTER_PORT) that torchrun, Slurm wrappers and {@code scripts/launch-local} set.
 *
 * <p>Every collective first checks that all ranks pass the same collective with tensors of the same dtype and shape
 * (one small all-gather); a mismatch throws on every rank, naming what each had. A {@link
 * io.progrpo.tensor.distributed.ProcessGroup} is confined to the thread that created it and runs one call at a time;
 * see its class documentation for the thread rules.
 */
package io.progrpo.tensor.distributed;
