/** The GRPO trainer, its methods, configuration, checkpoints, CLI and reports. */
package io.progrpo.trainer;
