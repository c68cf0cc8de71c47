package io.progrpo.tensor;

/**
 * The shim or libtorch could not be loaded, or the JVM lacks native access. The message names the command to run
 * ({@code scripts/setup}) or the flag to pass ({@code --enable-native-access=io.progrpo.tensor}).
 */
public final class TorchUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public TorchUnavailableException(String message) {
        super(message);
    }
}
