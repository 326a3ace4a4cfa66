package dev.bourne.tpm.common.eventlog;

import dev.bourne.tpm.common.TpmHashAlg;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds synthetic boot event logs, well-formed or deliberately broken, for the parser's table-driven tests. Digests of
 * known algorithms are real hashes of the event data; unknown ones are filler bytes of the declared size.
 */
final class LogBuilder {
    static final int SM3_256 = 0x0012;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<int[]> algorithms;

    private LogBuilder(List<int[]> algorithms) {
        this.algorithms = algorithms;
    }

    /** A SHA-1 format log, no Spec ID event. */
    static LogBuilder sha1() {
        return new LogBuilder(null);
    }

    /** A crypto-agile log whose Spec ID event declares these algorithms with their real sizes. */
    static LogBuilder agile(TpmHashAlg... banks) {
        List<int[]> algs = new ArrayList<>();
        for (TpmHashAlg bank : banks) {
            algs.add(new int[] {bank.id(), bank.digestLength()});
        }
        return agile(algs);
    }

    /** A crypto-agile log whose Spec ID event declares {algorithmId, digestSize} pairs as given. */
    static LogBuilder agile(List<int[]> algorithms) {
        LogBuilder builder = new LogBuilder(algorithms);
        builder.sha1Event(0, Event.EV_NO_ACTION, new byte[20], specId(algorithms, new byte[0]));
        return builder;
    }

    /** The TCG_EfiSpecIDEventStruct for these {algorithmId, digestSize} pairs. */
    static byte[] specId(List<int[]> algorithms, byte[] vendorInfo) {
        ByteArrayOutputStream spec = new ByteArrayOutputStream();
        spec.writeBytes("Spec ID Event03\0".getBytes(StandardCharsets.US_ASCII));
        spec.writeBytes(u32(0)); // platformClass
        spec.writeBytes(new byte[] {0, 2, 0, 2}); // specVersionMinor, Major, specErrata, uintnSize
        spec.writeBytes(u32(algorithms.size()));
        for (int[] alg : algorithms) {
            spec.writeBytes(u16(alg[0]));
            spec.writeBytes(u16(alg[1]));
        }
        spec.write(vendorInfo.length);
        spec.writeBytes(vendorInfo);
        return spec.toByteArray();
    }

    /** A SHA-1 format event (also the form of a crypto-agile log's first event). */
    LogBuilder sha1Event(int pcr, int type, byte[] digest, byte[] data) {
        out.writeBytes(u32(pcr));
        out.writeBytes(u32(type));
        out.writeBytes(digest);
        out.writeBytes(u32(data.length));
        out.writeBytes(data);
        return this;
    }

    /** A measured event in this log's format, its digests the hashes of {@code data}. */
    LogBuilder event(int pcr, int type, byte[] data) {
        if (algorithms == null) {
            return sha1Event(pcr, type, TpmHashAlg.SHA1.digest(data), data);
        }
        out.writeBytes(u32(pcr));
        out.writeBytes(u32(type));
        out.writeBytes(u32(algorithms.size()));
        for (int[] alg : algorithms) {
            out.writeBytes(u16(alg[0]));
            out.writeBytes(digestOf(alg, data));
        }
        out.writeBytes(u32(data.length));
        out.writeBytes(data);
        return this;
    }

    LogBuilder event(int pcr, String data) {
        return event(pcr, 0xD, data.getBytes(StandardCharsets.US_ASCII)); // EV_IPL
    }

    /** An EV_NO_ACTION event in this log's format, with zero digests, as firmware writes them. */
    LogBuilder noAction(int pcr, byte[] data) {
        if (algorithms == null) {
            return sha1Event(pcr, Event.EV_NO_ACTION, new byte[20], data);
        }
        out.writeBytes(u32(pcr));
        out.writeBytes(u32(Event.EV_NO_ACTION));
        out.writeBytes(u32(algorithms.size()));
        for (int[] alg : algorithms) {
            out.writeBytes(u16(alg[0]));
            out.writeBytes(new byte[alg[1]]);
        }
        out.writeBytes(u32(data.length));
        out.writeBytes(data);
        return this;
    }

    /** The StartupLocality EV_NO_ACTION event. */
    LogBuilder startupLocality(int locality) {
        byte[] data = Arrays.copyOf("StartupLocality\0".getBytes(StandardCharsets.US_ASCII), 17);
        data[16] = (byte) locality;
        return noAction(0, data);
    }

    /** Appends bytes as they are. */
    LogBuilder raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    byte[] build() {
        return out.toByteArray();
    }

    private static byte[] digestOf(int[] alg, byte[] data) {
        return TpmHashAlg.fromId(alg[0]).filter(known -> known.digestLength() == alg[1])
                .map(known -> known.digest(data)).orElseGet(() -> filler(alg[1]));
    }

    private static byte[] filler(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 0x5A);
        return bytes;
    }

    static byte[] u32(long value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) value).array();
    }

    static byte[] u16(int value) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            joined.writeBytes(part);
        }
        return joined.toByteArray();
    }
}
