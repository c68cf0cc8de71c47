package io.progrpo.app.distributed;

/**
 * The ranks of one job cannot start together: one failed to find its start (no checkpoint, a damaged file, a locked
 * run directory), or they start from different places (one resumes, another does not; different checkpoints). The
 * message names each rank and what it found.
 */
public final class StartMismatchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StartMismatchException(String message) {
        super(message);
    }
}
