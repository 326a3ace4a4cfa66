package dev.bourne.tpm.common.eventlog;

import static dev.bourne.tpm.common.eventlog.LogBuilder.concat;
import static dev.bourne.tpm.common.eventlog.LogBuilder.u16;
import static dev.bourne.tpm.common.eventlog.LogBuilder.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Malformed, hostile and oversized logs: each is refused with a message naming the event and the field. */
class EventLogMalformedTest {
    private static final int EV_IPL = 0xD;
    private static final byte[] A = {'a'};

    static Stream<Arguments> malformed() {
        return Stream.of(
                // Whole log
                bad("empty", new byte[0], "event log is empty"),
                bad("over 16 MiB", new byte[EventLog.MAX_LOG_BYTES + 1],
                        "event log has 16777217 bytes, more than the 16777216 allowed"),
                // Truncations
                bad("truncated header", new byte[3], "event 0: pcrIndex truncated: needs 4 bytes, 3 remain"),
                bad("truncated SHA-1 digest", concat(u32(0), u32(EV_IPL), new byte[10]),
                        "event 0: digest truncated: needs 20 bytes, 10 remain"),
                bad("truncated event data", LogBuilder.sha1().event(0, "a")
                                .raw(concat(u32(0), u32(EV_IPL), new byte[20], u32(100), new byte[5])).build(),
                        "event 1: event data truncated: needs 100 bytes, 5 remain"),
                bad("truncated event2 digest", LogBuilder.agile(TpmHashAlg.SHA256)
                                .raw(concat(u32(0), u32(EV_IPL), u32(1), u16(0x000B), new byte[10])).build(),
                        "event 1: digests[0].digest truncated: needs 32 bytes, 10 remain"),
                // Trailing garbage: bytes after the last event that do not form one
                bad("trailing garbage after a SHA-1 log", LogBuilder.sha1().event(0, "a").raw(new byte[5]).build(),
                        "event 1: eventType truncated: needs 4 bytes, 1 remain"),
                bad("trailing garbage after a crypto-agile log",
                        LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").raw(new byte[11]).build(),
                        "event 2: digestCount truncated: needs 4 bytes, 3 remain"),
                // Oversized fields
                bad("oversized event", concat(u32(0), u32(EV_IPL), new byte[20], u32(EventLog.MAX_EVENT_DATA_BYTES + 1)),
                        "event 0: eventSize 1048577 is over the 1048576-byte limit"),
                bad("eventSize 2^32-1", LogBuilder.agile(TpmHashAlg.SHA1)
                                .raw(concat(u32(0), u32(EV_IPL), u32(1), u16(0x0004), new byte[20], u32(0xFFFFFFFFL)))
                                .build(),
                        "event 1: eventSize 4294967295 is over the 1048576-byte limit"),
                bad("digestCount 2^32-1", LogBuilder.agile(TpmHashAlg.SHA256)
                                .raw(concat(u32(0), u32(EV_IPL), u32(0xFFFFFFFFL))).build(),
                        "event 1: digestCount 4294967295, but the Spec ID event declares 1 algorithms"),
                // PCR index of a measured event
                bad("pcrIndex 24", LogBuilder.sha1().event(24, "a").build(),
                        "event 0: pcrIndex 24 is not a PCR (0-23)"),
                bad("pcrIndex 2^32-1", LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").event(-1, "b").build(),
                        "event 2: pcrIndex 4294967295 is not a PCR (0-23)"),
                // Spec ID Event03 header
                bad("Spec ID without algorithms", specIdLog(List.of(), new byte[0]),
                        "event 0: Spec ID Event03 numberOfAlgorithms 0 is not 1-16"),
                bad("Spec ID with 17 algorithms", specIdLog(seventeenAlgorithms(), new byte[0]),
                        "event 0: Spec ID Event03 numberOfAlgorithms 17 is not 1-16"),
                bad("Spec ID numberOfAlgorithms 2^32-1", specIdLogWithCount(0xFFFFFFFFL),
                        "event 0: Spec ID Event03 numberOfAlgorithms 4294967295 is not 1-16"),
                bad("Spec ID sha256 of 20 bytes", specIdLog(List.of(new int[] {0x000B, 20}), new byte[0]),
                        "event 0: Spec ID Event03 declares sha256 digests of 20 bytes, not 32"),
                bad("Spec ID unknown algorithm of 0 bytes", specIdLog(List.of(new int[] {0x0012, 0}), new byte[0]),
                        "event 0: Spec ID Event03 declares algorithm 0x0012 digests of 0 bytes, not 1-64"),
                bad("Spec ID unknown algorithm of 65535 bytes",
                        specIdLog(List.of(new int[] {0x0012, 0xFFFF}), new byte[0]),
                        "event 0: Spec ID Event03 declares algorithm 0x0012 digests of 65535 bytes, not 1-64"),
                bad("Spec ID lists an algorithm twice",
                        specIdLog(List.of(new int[] {0x000B, 32}, new int[] {0x000B, 32}), new byte[0]),
                        "event 0: Spec ID Event03 lists algorithm 0x000b twice"),
                bad("Spec ID with bytes after its vendorInfo", LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION,
                                new byte[20], concat(LogBuilder.specId(List.of(new int[] {0x000B, 32}), new byte[0]),
                                        new byte[3])).build(),
                        "event 0: Spec ID Event03 eventSize 36, but its fields end after 33 bytes"),
                bad("Spec ID truncated in its algorithms", LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION,
                                new byte[20], Arrays.copyOf(LogBuilder.specId(List.of(new int[] {0x0004, 20},
                                        new int[] {0x000B, 32}), new byte[0]), 34)).build(),
                        "event 0: Spec ID Event03 digestSizes[1].digestSize truncated: needs 2 bytes, 0 remain"),
                bad("Spec ID vendorInfo truncated", LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION,
                                new byte[20], withVendorInfoSize(10)).build(),
                        "event 0: Spec ID Event03 vendorInfo truncated: needs 10 bytes, 0 remain"),
                bad("Spec ID in PCR 1", LogBuilder.sha1().sha1Event(1, Event.EV_NO_ACTION, new byte[20],
                                LogBuilder.specId(List.of(new int[] {0x000B, 32}), new byte[0])).build(),
                        "event 0: Spec ID Event03 pcrIndex is 1, not 0"),
                bad("Spec ID with a digest", LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION, ones(20),
                                LogBuilder.specId(List.of(new int[] {0x000B, 32}), new byte[0])).build(),
                        "event 0: Spec ID Event03 digest is not zero"),
                // Digests that disagree with the header
                bad("digest count below the header's", LogBuilder.agile(TpmHashAlg.SHA1, TpmHashAlg.SHA256)
                                .raw(concat(u32(0), u32(EV_IPL), u32(1), u16(0x0004), new byte[20], u32(0))).build(),
                        "event 1: digestCount 1, but the Spec ID event declares 2 algorithms"),
                bad("digest of an undeclared algorithm", LogBuilder.agile(TpmHashAlg.SHA1, TpmHashAlg.SHA256)
                                .raw(concat(u32(0), u32(EV_IPL), u32(2), u16(0x0004), new byte[20], u16(0x000C),
                                        new byte[48], u32(0))).build(),
                        "event 1: digests[1] algorithm 0x000c is not declared in the Spec ID event"),
                bad("digest repeated", LogBuilder.agile(TpmHashAlg.SHA1, TpmHashAlg.SHA256)
                                .raw(concat(u32(0), u32(EV_IPL), u32(2), u16(0x000B), new byte[32], u16(0x000B),
                                        new byte[32], u32(0))).build(),
                        "event 1: digests[1] repeats algorithm 0x000b"),
                // StartupLocality
                bad("StartupLocality of 18 bytes", LogBuilder.agile(TpmHashAlg.SHA256)
                                .noAction(0, Arrays.copyOf("StartupLocality\0\3".getBytes(), 18)).build(),
                        "event 1: StartupLocality eventSize 18 is not 17"),
                bad("StartupLocality 2", LogBuilder.agile(TpmHashAlg.SHA256).startupLocality(2).build(),
                        "event 1: StartupLocality 2 is not 0, 3 or 4"),
                bad("StartupLocality in PCR 1", LogBuilder.agile(TpmHashAlg.SHA256)
                                .noAction(1, "StartupLocality\0\3".getBytes()).build(),
                        "event 1: StartupLocality pcrIndex 1 is not 0"),
                bad("StartupLocality after a PCR 0 event", LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a")
                                .startupLocality(3).build(),
                        "event 2: StartupLocality after PCR 0 was already extended or initialised"),
                bad("StartupLocality twice", LogBuilder.agile(TpmHashAlg.SHA256).startupLocality(3)
                                .startupLocality(3).build(),
                        "event 2: StartupLocality after PCR 0 was already extended or initialised"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void parse_malformed_rejected(String name, byte[] log, String message) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> EventLog.parse(log));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parse_moreThanMaxEvents_rejected() {
        LogBuilder builder = LogBuilder.sha1();
        for (int i = 0; i < EventLog.MAX_EVENTS; i++) {
            builder.sha1Event(1, EV_IPL, new byte[20], new byte[0]);
        }
        byte[] atLimit = builder.build();
        assertEquals(EventLog.MAX_EVENTS, EventLog.parse(atLimit).events().size());

        byte[] overLimit = concat(atLimit, concat(u32(1), u32(EV_IPL), new byte[20], u32(0)));
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> EventLog.parse(overLimit));
        assertEquals("event log has more than 100000 events", e.getMessage());
    }

    @Test
    void parse_eventAtDataLimit_accepted() {
        byte[] data = new byte[EventLog.MAX_EVENT_DATA_BYTES];
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(4, EV_IPL, data).build());
        assertEquals(EventLog.MAX_EVENT_DATA_BYTES, log.events().get(1).dataLength());
    }

    @Test
    void parse_noActionWithAnyPcrIndex_accepted() {
        // EV_NO_ACTION events are never extended, so their PCR index does not matter to the replay; Windows logs its
        // SIPA events as EV_NO_ACTION in PCR 0xFFFFFFFF (go-attestation-option_rom_eventlog.bin, event 60).
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).noAction(-1, A).build());
        assertEquals(-1, log.events().get(1).pcrIndex());
    }

    private static Arguments bad(String name, byte[] log, String message) {
        return Arguments.of(name, log, message);
    }

    private static byte[] specIdLog(List<int[]> algorithms, byte[] vendorInfo) {
        return LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION, new byte[20],
                LogBuilder.specId(algorithms, vendorInfo)).build();
    }

    /** A Spec ID event whose numberOfAlgorithms field says {@code count} but lists one algorithm. */
    private static byte[] specIdLogWithCount(long count) {
        byte[] spec = LogBuilder.specId(List.of(new int[] {0x000B, 32}), new byte[0]);
        System.arraycopy(u32(count), 0, spec, 24, 4);
        return LogBuilder.sha1().sha1Event(0, Event.EV_NO_ACTION, new byte[20], spec).build();
    }

    /** A Spec ID event whose vendorInfoSize says {@code size} but no vendor info follows. */
    private static byte[] withVendorInfoSize(int size) {
        byte[] spec = LogBuilder.specId(List.of(new int[] {0x000B, 32}), new byte[0]);
        spec[spec.length - 1] = (byte) size;
        return spec;
    }

    private static List<int[]> seventeenAlgorithms() {
        List<int[]> algorithms = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            algorithms.add(new int[] {0x0100 + i, 32});
        }
        return algorithms;
    }

    private static byte[] ones(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 0xFF);
        return bytes;
    }
}
