package dev.bourne.appliance.ca.journal;

/** The CA journal cannot be read or written; the message names the journal and what is wrong. */
public class JournalException extends Exception {
    private static final long serialVersionUID = 1L;

    public JournalException(String message) {
        super(message);
    }

    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }
}
