/** Generated bindings of the shim and the library loader. Not exported. */
package io.progrpo.tensor.internal.ffi;
