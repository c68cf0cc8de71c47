package io.progrpo.tensor.spi;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * A jar that carries a built shim ({@code libprogrpo_torch.so}) for one platform and one libtorch, found with
 * {@link java.util.ServiceLoader} on the module path ({@code provides}) or the class path ({@code META-INF/services}).
 * The {@code io.progrpo:progrpo-natives} artifact with a platform classifier is one; its jar without a classifier is one
 * that carries nothing. The tensor module extracts the shim into a versioned cache directory at first use and loads it
 * when no {@code -Dprogrpo.shim}, {@code -Dprogrpo.shim.dir} or {@code PROGRPO_SHIM} names another.
 *
 * <p>The metadata's keys: {@code platform} ({@code linux-x86_64}), {@code libtorch.version} (the libtorch it was
 * compiled and linked against, {@code 1.13.0}), {@code shim.abi} (the C ABI version of native-headers/progrpo_torch.h),
 * {@code classifier}, {@code cuda} ({@code true} or {@code false}), {@code sha256} (of the library's bytes, hex) and
 * {@code version} (the artifact's version).
 */
public interface NativeLibraryProvider {
    /** Where the provider comes from, for messages: e.g. {@code io.progrpo:progrpo-natives:0.1.0:linux-x86_64-libtorch1.13}. */
    String description();

    /** The build's metadata (keys above); empty when this jar carries no library. */
    Map<String, String> metadata();

    /** The library's bytes; the caller closes the stream. */
    InputStream open() throws IOException;
}
