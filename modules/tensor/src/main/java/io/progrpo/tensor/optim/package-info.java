/** Optimizers backed by libtorch: AdamW and SGD, parameter groups, gradient clipping. */
package io.progrpo.tensor.optim;
