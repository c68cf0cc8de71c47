package io.progrpo.trainer.config;

/**
 * A configuration value that cannot be used. The message is one line that names the field, what it expects and
 * what it got, so the CLI can print it as-is and exit with status 2. Control characters and line breaks inside the
 * message (a value that holds a newline, say) are written as escapes ({@code \n}, or {@code \\u} and four hex digits), so the message
 * stays one line whatever value it quotes.
 */
public final class ConfigException extends IllegalArgumentException {

    private final String field;

    /**
     * @param field the offending field (or the override source, such as a file, when no field applies)
     * @param message one line naming the field, the expectation and the value received
     */
    public ConfigException(String field, String message) {
        super(oneLine(message));
        this.field = field;
    }

    /** @param cause the parse error behind this one (for example Jackson's, for a malformed file) */
    public ConfigException(String field, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.field = field;
    }

    /** {@code s} with every control character, line or paragraph separator escaped. */
    static String oneLine(String s) {
        if (s == null) return null;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029' || ch == '\u0085') {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }

    /** @return the field to fix, or the source (file name, {@code --set} argument) when the problem is not one field */
    public String field() {
        return field;
    }
}
