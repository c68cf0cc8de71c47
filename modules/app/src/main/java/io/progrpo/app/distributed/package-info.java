/**
 * Multi-process data-parallel GRPO (Flow-GRPO's scheme with whole prompt groups per rank): {@link
 * io.progrpo.app.distributed.DistributedGrpo} joins a c10d process group from the launcher's environment, checks
 * that every rank has the same config, broadcasts rank 0's parameters, installs the gradient all-reduce and the
 * reward gather into {@link io.progrpo.trainer.GrpoTrainer}, and lets rank 0 alone write metrics and checkpoints.
 */
package io.progrpo.app.distributed;
