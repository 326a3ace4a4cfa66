package dev.bourne.appliance.admin;

/** The entry, agent, bundle or authority a request names does not exist; the message names it. */
final class UnknownResourceException extends Exception {
    private static final long serialVersionUID = 1L;

    UnknownResourceException(String message) {
        super(message);
    }
}
