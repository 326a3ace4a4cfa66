package dev.bourne.tpm.agent;

import java.util.Locale;
import java.util.Optional;

/**
 * A TPM operation of the agent failed: the TPM answered an error, the device could not be reached, or what it returned
 * could not be used. Checked, because every caller must decide what a TPM failure means for it (retry, re-attest,
 * give up). The message names the TPM command and, when the TPM answered one, its response code in hex.
 */
public class AgentTpmException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String command;
    private final int responseCode;

    /** A failure with no TPM response code (I/O, an unusable answer, a refused precondition). */
    public AgentTpmException(String command, String message) {
        this(command, 0, message, null);
    }

    public AgentTpmException(String command, String message, Throwable cause) {
        this(command, 0, message, cause);
    }

    /**
     * @param command the TPM command or agent operation, such as {@code TPM2_Quote}
     * @param responseCode the TPM response code, 0 when the TPM gave none
     * @param message what failed, without the command and code (they are prepended)
     */
    public AgentTpmException(String command, int responseCode, String message, Throwable cause) {
        super(format(command, responseCode, message), cause);
        this.command = command;
        this.responseCode = responseCode;
    }

    private static String format(String command, int responseCode, String message) {
        StringBuilder text = new StringBuilder(command);
        if (responseCode != 0) {
            text.append(" failed with TPM response code ").append(hex(responseCode));
        } else {
            text.append(" failed");
        }
        if (message != null && !message.isEmpty()) {
            text.append(": ").append(message);
        }
        return text.toString();
    }

    /** {@code 0x0000098e}: how response codes print in messages. */
    public static String hex(int responseCode) {
        return String.format(Locale.ROOT, "0x%08x", responseCode);
    }

    /** The TPM command (or agent operation) that failed, such as {@code TPM2_Quote}. */
    public String command() {
        return command;
    }

    /** The TPM's response code, when the TPM answered with one. */
    public Optional<Integer> responseCode() {
        return responseCode == 0 ? Optional.empty() : Optional.of(responseCode);
    }
}
