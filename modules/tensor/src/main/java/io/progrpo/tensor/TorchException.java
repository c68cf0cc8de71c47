package io.progrpo.tensor;

/**
 * A call into libtorch failed. The message starts with the operation and its operands (shape, dtype, device) and
 * ends with libtorch's own message (without its C++ backtrace).
 */
public final class TorchException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String torchMessage;

    public TorchException(String operation, String torchMessage) {
        super(operation + ": " + torchMessage);
        this.torchMessage = torchMessage;
    }

    /** libtorch's message alone. */
    public String torchMessage() {
        return torchMessage;
    }
}
