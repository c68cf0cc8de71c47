/**
 * The built libtorch shim as a jar: {@link io.progrpo.natives.BundledShim} serves it to the tensor module, which
 * extracts it at first use. The jar with a platform classifier carries the library; the one without carries none.
 */
module io.progrpo.natives {
    requires io.progrpo.tensor;

    exports io.progrpo.natives;

    provides io.progrpo.tensor.spi.NativeLibraryProvider with io.progrpo.natives.BundledShim;
}
