package dev.bourne.tpm.common.internal;

import java.io.ByteArrayOutputStream;

/** Marshals TPM 2.0 values big-endian, as the TPM does (TCG TPM 2.0 Library Part 2). */
public final class TpmWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public TpmWriter u8(int value) {
        out.write(value);
        return this;
    }

    public TpmWriter u16(int value) {
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    public TpmWriter u32(int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    public TpmWriter u64(long value) {
        u32((int) (value >>> 32));
        return u32((int) value);
    }

    public TpmWriter bytes(byte[] value) {
        out.writeBytes(value);
        return this;
    }

    /** A TPM2B: UINT16 size then the bytes. */
    public TpmWriter sized(byte[] value) {
        if (value.length > 0xffff) {
            throw new IllegalArgumentException("a TPM2B holds at most 65535 bytes");
        }
        u16(value.length);
        return bytes(value);
    }

    public byte[] toByteArray() {
        return out.toByteArray();
    }
}
