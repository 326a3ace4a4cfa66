package dev.bourne.tpm.common.internal;

import dev.bourne.tpm.common.TpmFormatException;
import java.util.Arrays;
import java.util.Objects;

/**
 * A bounded reader of TPM 2.0 marshalled data (big-endian, TCG TPM 2.0 Library Part 2). Every read is checked against
 * what is left, so malformed input ends in a {@link TpmFormatException} naming the structure and the field
 * ({@code "TPMT_PUBLIC: truncated at authPolicy"}), never in an index or buffer-underflow exception; every sized field
 * is bounded by its structure's maximum before anything is allocated.
 */
public final class TpmReader {

    private final String structure;
    private final byte[] data;
    private final int end;
    private int position;

    private TpmReader(String structure, byte[] data, int start, int end) {
        this.structure = structure;
        this.data = data;
        this.position = start;
        this.end = end;
    }

    /**
     * A reader over {@code data} (not copied: callers pass bytes they own), naming {@code structure} in its errors.
     *
     * @throws TpmFormatException when data is null or longer than {@code maxLength}
     */
    public static TpmReader of(String structure, byte[] data, int maxLength) {
        Objects.requireNonNull(structure, "structure");
        if (data == null) {
            throw new TpmFormatException(structure + ": missing");
        }
        if (data.length > maxLength) {
            throw new TpmFormatException(structure + ": " + data.length + " bytes exceed the maximum of " + maxLength);
        }
        return new TpmReader(structure, data, 0, data.length);
    }

    /** The structure name this reader reports in its errors. */
    public String structure() {
        return structure;
    }

    public int remaining() {
        return end - position;
    }

    public int position() {
        return position;
    }

    private void need(int count, String field) {
        if (count > end - position) {
            throw new TpmFormatException(structure + ": truncated at " + field);
        }
    }

    public int u8(String field) {
        need(1, field);
        return data[position++] & 0xff;
    }

    public int u16(String field) {
        need(2, field);
        int value = ((data[position] & 0xff) << 8) | (data[position + 1] & 0xff);
        position += 2;
        return value;
    }

    /** A UINT32 as a Java int (the bits unchanged; use {@link Integer#toUnsignedLong} for its value). */
    public int u32(String field) {
        need(4, field);
        int value = ((data[position] & 0xff) << 24) | ((data[position + 1] & 0xff) << 16)
                | ((data[position + 2] & 0xff) << 8) | (data[position + 3] & 0xff);
        position += 4;
        return value;
    }

    /** A UINT64 as a Java long (the bits unchanged). */
    public long u64(String field) {
        long high = Integer.toUnsignedLong(u32(field));
        long low = Integer.toUnsignedLong(u32(field));
        return (high << 32) | low;
    }

    public byte[] bytes(int count, String field) {
        if (count < 0) {
            throw new TpmFormatException(structure + ": negative length at " + field);
        }
        need(count, field);
        byte[] value = Arrays.copyOfRange(data, position, position + count);
        position += count;
        return value;
    }

    /**
     * A TPM2B: a UINT16 size then that many bytes, the contents returned.
     *
     * @param max the largest size the structure allows for this field; a larger size is rejected before reading on
     */
    public byte[] sized(int max, String field) {
        int size = u16(field + " size");
        if (size > max) {
            throw new TpmFormatException(structure + ": " + field + " size " + size + " exceeds the maximum of "
                    + max);
        }
        return bytes(size, field);
    }

    /** Fails unless every byte has been read: strict parsers accept no trailing data. */
    public void requireEnd() {
        if (position != end) {
            throw new TpmFormatException(structure + ": " + (end - position) + " trailing bytes");
        }
    }

    /** A format error naming this reader's structure: {@code "<structure>: <detail>"}. */
    public TpmFormatException error(String detail) {
        return new TpmFormatException(structure + ": " + detail);
    }
}
