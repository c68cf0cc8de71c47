package io.progrpo.trainer.config;

/**
 * A configuration value that cannot be used. The message is one line that names the field, what it expects and
 * what it got, so the CLI can print it as-is and exit with status 2.
 */
public final class ConfigException extends IllegalArgumentException {

    private final String field;

    /**
     * @param field the offending field (or the override source, such as a file, when no field applies)
     * @param message one line naming the field, the expectation and the value received
     */
    public ConfigException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** @param cause the parse error behind this one (for example Jackson's, for a malformed file) */
    public ConfigException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** @return the field to fix, or the source (file name, {@code --set} argument) when the problem is not one field */
    public String field() {
        return field;
    }
}
