/**
 * The run directory's durable-storage machinery, not exported: files written so that a crash never leaves them
 * half-written ({@link io.progrpo.trainer.internal.DurableFiles}) and the named fault points that tests halt the JVM at ({@link io.progrpo.trainer.internal.FaultPoints}).
 */
package io.progrpo.trainer.internal;
