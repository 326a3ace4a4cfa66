package dev.bourne.appliance.server;

/** The server could not start: the message names the component and the reason (never a secret). */
public final class ServerStartException extends Exception {
    private static final long serialVersionUID = 1L;

    public ServerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
