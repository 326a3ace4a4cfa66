package dev.bourne.agent.cli;

/** A command failed for a reason the user is told in one line (exit code 1); never carries a secret. */
public final class CliException extends Exception {
    private static final long serialVersionUID = 1L;

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
