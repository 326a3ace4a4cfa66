package dev.bourne.openstack.server;

/**
 * Keystone or Nova could not answer the Nova check. The message names what failed (unreachable, status, malformed
 * answer) and never holds a token or password.
 */
public final class NovaUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public NovaUnavailableException(String message) {
        super(message);
    }

    public NovaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
