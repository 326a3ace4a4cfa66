package dev.bourne.appliance.cli;

/** A command failed for a reason the user is told in one line (exit code 1); never carries a secret. */
final class CliException extends Exception {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
