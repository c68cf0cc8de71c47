/**
 * Service interfaces of the tensor module: {@link io.progrpo.tensor.spi.NativeLibraryProvider}, a jar that carries the
 * built shim for one platform and libtorch.
 */
package io.progrpo.tensor.spi;
