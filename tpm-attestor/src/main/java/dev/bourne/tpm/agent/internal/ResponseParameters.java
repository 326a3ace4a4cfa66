package dev.bourne.tpm.agent.internal;

import dev.bourne.tpm.agent.AgentTpmException;
import java.util.Arrays;

/**
 * Reads the size-prefixed structures (TPM2B) at the start of a response parameter area, bounded by the area, so the
 * agent can forward a TPM2B's contents exactly as the TPM marshalled them.
 */
public final class ResponseParameters {

    private final String command;
    private final byte[] area;
    private int position;

    public ResponseParameters(String command, byte[] area) {
        this.command = command;
        this.area = area.clone();
    }

    /** The contents of the next TPM2B (without its 2-byte size). */
    public byte[] nextSized(String field) throws AgentTpmException {
        if (area.length - position < 2) {
            throw new AgentTpmException(command, "response truncated before " + field);
        }
        int size = ((area[position] & 0xff) << 8) | (area[position + 1] & 0xff);
        position += 2;
        if (size > area.length - position) {
            throw new AgentTpmException(command, field + " announces " + size + " bytes but only "
                    + (area.length - position) + " remain");
        }
        byte[] contents = Arrays.copyOfRange(area, position, position + size);
        position += size;
        return contents;
    }

    /** Everything after what was read. */
    public byte[] rest() {
        return Arrays.copyOfRange(area, position, area.length);
    }
}
