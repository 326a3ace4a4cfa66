package dev.bourne.appliance.ca.internal;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Minimal DER writing for the certificate fast path: definite lengths, exact-size arrays, no intermediate objects.
 * Callers compute a structure's length first ({@link #tlvLength}) and then write it front to back with a
 * {@link Writer}. Only what an X.509 leaf needs is here. Not an API.
 */
public final class Der {
    public static final int SEQUENCE = 0x30;
    public static final int SET = 0x31;
    public static final int INTEGER = 0x02;
    public static final int BIT_STRING = 0x03;
    public static final int OCTET_STRING = 0x04;
    public static final int OID = 0x06;
    public static final int UTF8_STRING = 0x0c;
    public static final int UTC_TIME = 0x17;
    public static final int GENERALIZED_TIME = 0x18;
    public static final int BOOLEAN = 0x01;

    /** First second (1950-01-01T00:00:00Z) and first second after (2050-01-01T00:00:00Z) the UTCTime range. */
    private static final long UTC_TIME_FIRST = -631152000L;
    private static final long UTC_TIME_END = 2524608000L;

    private Der() {
    }

    /** Bytes the length octets of a {@code contentLength}-byte value take. */
    public static int lengthOfLength(int contentLength) {
        if (contentLength < 0x80) {
            return 1;
        }
        if (contentLength < 0x100) {
            return 2;
        }
        if (contentLength < 0x10000) {
            return 3;
        }
        if (contentLength < 0x1000000) {
            return 4;
        }
        return 5;
    }

    /** Total bytes of a tag-length-value with a one-byte tag and {@code contentLength} bytes of content. */
    public static int tlvLength(int contentLength) {
        return 1 + lengthOfLength(contentLength) + contentLength;
    }

    /** A complete TLV of {@code content}. */
    public static byte[] tlv(int tag, byte[] content) {
        Writer out = new Writer(tlvLength(content.length));
        out.header(tag, content.length);
        out.write(content);
        return out.finish();
    }

    /**
     * A DER time for X.509 validity: UTCTime ({@code YYMMDDHHMMSSZ}) for years 1950-2049, GeneralizedTime
     * ({@code YYYYMMDDHHMMSSZ}) otherwise, as RFC 5280 section 4.1.2.5 requires.
     */
    public static byte[] time(long epochSecond) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        boolean utc = epochSecond >= UTC_TIME_FIRST && epochSecond < UTC_TIME_END;
        int digits = utc ? 12 : 14;
        byte[] out = new byte[2 + digits + 1];
        out[0] = (byte) (utc ? UTC_TIME : GENERALIZED_TIME);
        out[1] = (byte) (digits + 1);
        int i = 2;
        if (utc) {
            i = two(out, i, t.getYear() % 100);
        } else {
            i = two(out, i, t.getYear() / 100);
            i = two(out, i, t.getYear() % 100);
        }
        i = two(out, i, t.getMonthValue());
        i = two(out, i, t.getDayOfMonth());
        i = two(out, i, t.getHour());
        i = two(out, i, t.getMinute());
        i = two(out, i, t.getSecond());
        out[i] = 'Z';
        return out;
    }

    private static int two(byte[] out, int i, int value) {
        out[i] = (byte) ('0' + value / 10);
        out[i + 1] = (byte) ('0' + value % 10);
        return i + 2;
    }

    /**
     * The position and length of the next TLV's content in {@code der} at {@code offset}, checking the tag and that
     * the length fits the array; returns {@code {contentStart, contentLength}}.
     *
     * @throws IllegalArgumentException when the bytes there are not a TLV with that tag
     */
    public static int[] read(byte[] der, int offset, int expectedTag) {
        if (offset + 2 > der.length || (der[offset] & 0xff) != expectedTag) {
            throw new IllegalArgumentException("expected DER tag " + expectedTag);
        }
        int first = der[offset + 1] & 0xff;
        int pos = offset + 2;
        int length;
        if (first < 0x80) {
            length = first;
        } else {
            int count = first & 0x7f;
            if (count == 0 || count > 3 || pos + count > der.length) {
                throw new IllegalArgumentException("unsupported DER length");
            }
            length = 0;
            for (int i = 0; i < count; i++) {
                length = (length << 8) | (der[pos++] & 0xff);
            }
        }
        if (length > der.length - pos) {
            throw new IllegalArgumentException("DER length beyond the data");
        }
        return new int[] {pos, length};
    }

    /** Writes TLVs front to back into an array of a size known in advance. */
    public static final class Writer {
        private final byte[] out;
        private int pos;

        public Writer(int size) {
            this.out = new byte[size];
        }

        /** Writes a tag and a definite length. */
        public Writer header(int tag, int contentLength) {
            out[pos++] = (byte) tag;
            int lengthBytes = lengthOfLength(contentLength);
            if (lengthBytes == 1) {
                out[pos++] = (byte) contentLength;
            } else {
                out[pos++] = (byte) (0x80 | (lengthBytes - 1));
                for (int shift = 8 * (lengthBytes - 2); shift >= 0; shift -= 8) {
                    out[pos++] = (byte) (contentLength >>> shift);
                }
            }
            return this;
        }

        public Writer write(byte[] bytes) {
            System.arraycopy(bytes, 0, out, pos, bytes.length);
            pos += bytes.length;
            return this;
        }

        public Writer write(byte[] bytes, int offset, int length) {
            System.arraycopy(bytes, offset, out, pos, length);
            pos += length;
            return this;
        }

        public Writer write(int b) {
            out[pos++] = (byte) b;
            return this;
        }

        /** The array, after checking it was filled exactly (a length computed wrong is a bug, never output). */
        public byte[] finish() {
            if (pos != out.length) {
                throw new IllegalStateException("DER length computed as " + out.length + " but wrote " + pos);
            }
            return out;
        }
    }
}
