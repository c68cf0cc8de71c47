package io.progrpo.app.distributed;

/** The ranks of one job were started with different configurations; the message lists each differing field. */
public final class ConfigMismatchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigMismatchException(String message) {
        super(message);
    }
}
