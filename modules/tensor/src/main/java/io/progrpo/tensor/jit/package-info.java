/**
 * TorchScript modules from Java: {@link io.progrpo.tensor.jit.ScriptModule} loads a file written by Python's
 * {@code torch.jit.save}, calls its methods with tensors and simple values, exposes its parameters and buffers as
 * aliases (so libtorch's optimizers train it in place), selects a trainable subset by name (e.g. LoRA adapters) and
 * saves the result in forms Python reads ({@code torch.load} of the parameters, {@code torch.jit.load} of the module).
 * The recipe for exporting a real model is in docs/torchscript.md.
 */
package io.progrpo.tensor.jit;
