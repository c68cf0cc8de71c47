/** Tensors, devices, dtypes, scopes, autograd and the memory ledger. */
package io.progrpo.tensor;
