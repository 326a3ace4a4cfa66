package dev.bourne.tpm.common.eventlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/** What a parsed log holds and replays to, on synthetic logs whose PCR values are computed here by hand. */
class EventLogTest {

    @Test
    void parse_cryptoAgile_keepsKnownBanksAndParsesOverUnknownOnes() {
        EventLog log = EventLog.parse(LogBuilder.agile(List.of(new int[] {0x0004, 20}, new int[] {0x000B, 32},
                new int[] {LogBuilder.SM3_256, 32})).event(4, "kernel").build());

        assertEquals(EventLog.Format.CRYPTO_AGILE, log.format());
        assertEquals(Set.of(TpmHashAlg.SHA1, TpmHashAlg.SHA256), log.banks());
        assertEquals(2, log.events().size());
        Event kernel = log.events().get(1);
        assertEquals(4, kernel.pcrIndex());
        assertEquals(Set.of(TpmHashAlg.SHA1, TpmHashAlg.SHA256), kernel.digests().keySet());
        assertArrayEquals(sha256("kernel"), kernel.digest(TpmHashAlg.SHA256).orElseThrow());
        assertArrayEquals("kernel".getBytes(StandardCharsets.US_ASCII), kernel.data());
    }

    @Test
    void parse_sha1Format_hasOnlyTheSha1Bank() {
        EventLog log = EventLog.parse(LogBuilder.sha1().event(0, "crtm").event(7, "secureboot").build());

        assertEquals(EventLog.Format.SHA1, log.format());
        assertEquals(Set.of(TpmHashAlg.SHA1), log.banks());
        assertEquals(Map.of(0, extend(TpmHashAlg.SHA1, null, "crtm"), 7, extend(TpmHashAlg.SHA1, null, "secureboot")),
                hex(log.replay(TpmHashAlg.SHA1)));
        assertEquals(Map.of(), log.replay(TpmHashAlg.SHA256));
    }

    @Test
    void replay_extendsInLogOrderPerPcrAndSkipsNoAction() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").event(1, "b")
                .noAction(0, "vendor note".getBytes(StandardCharsets.US_ASCII)).event(0, "c").build());

        String pcr0 = extend(TpmHashAlg.SHA256, extend(TpmHashAlg.SHA256, null, "a"), "c");
        assertEquals(Map.of(0, pcr0, 1, extend(TpmHashAlg.SHA256, null, "b")), hex(log.replay(TpmHashAlg.SHA256)));
        assertEquals(Set.of(TpmHashAlg.SHA256), log.replay().keySet());
    }

    @Test
    void replay_startupLocality3_startsPcr0AtThree() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA1, TpmHashAlg.SHA256).startupLocality(3)
                .event(0, "crtm").build());

        assertEquals(OptionalInt.of(3), log.startupLocality());
        for (TpmHashAlg bank : List.of(TpmHashAlg.SHA1, TpmHashAlg.SHA256)) {
            byte[] start = new byte[bank.digestLength()];
            start[start.length - 1] = 3;
            assertEquals(extend(bank, hexOf(start), "crtm"), hex(log.replay(bank)).get(0), bank.configName());
        }
    }

    @Test
    void replay_startupLocalityWithoutPcr0Events_pcr0IsTheLocality() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).startupLocality(4).build());

        byte[] four = new byte[32];
        four[31] = 4;
        assertArrayEquals(four, log.replay(TpmHashAlg.SHA256).get(0));
    }

    @Test
    void replay_returnsCopies() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").build());
        log.replay(TpmHashAlg.SHA256).get(0)[0] ^= 1;
        log.events().get(1).digests().get(TpmHashAlg.SHA256)[0] ^= 1;
        log.events().get(1).data()[0] ^= 1;

        assertEquals(extend(TpmHashAlg.SHA256, null, "a"), hex(log.replay(TpmHashAlg.SHA256)).get(0));
        assertArrayEquals(new byte[] {'a'}, log.events().get(1).data());
    }

    @Test
    void mismatchedPcrs_neverExtendedPcrs_mustHoldTheirStartValue() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").build());
        Map<Integer, byte[]> quoted = new HashMap<>();
        quoted.put(0, log.replay(TpmHashAlg.SHA256).get(0));
        quoted.put(8, new byte[32]);
        byte[] ones = new byte[32];
        Arrays.fill(ones, (byte) 0xFF);
        quoted.put(17, ones);
        quoted.put(23, new byte[32]);
        assertEquals(Set.of(), log.mismatchedPcrs(TpmHashAlg.SHA256, quoted));

        // A measurement the log leaves out (PCR 8 extended), a DRTM PCR reset, a resettable PCR extended.
        quoted.put(8, sha256("hidden"));
        quoted.put(17, new byte[32]);
        quoted.put(23, sha256("x"));
        assertEquals(List.of(8, 17, 23), List.copyOf(log.mismatchedPcrs(TpmHashAlg.SHA256, quoted)));
    }

    @Test
    void mismatchedPcrs_bankTheLogDoesNotCarry_everyExtendedPcrMismatches() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").build());
        Map<Integer, byte[]> quoted = Map.of(0, TpmHashAlg.SHA384.digest(new byte[1]), 9, new byte[48]);

        assertEquals(List.of(0), List.copyOf(log.mismatchedPcrs(TpmHashAlg.SHA384, quoted)));
    }

    @Test
    void mismatchedPcrs_badQuotedValues_rejected() {
        EventLog log = EventLog.parse(LogBuilder.agile(TpmHashAlg.SHA256).event(0, "a").build());

        assertEquals("quoted PCR 24 is not a PCR (0-23)", assertThrows(TpmFormatException.class,
                () -> log.mismatchedPcrs(TpmHashAlg.SHA256, Map.of(24, new byte[32]))).getMessage());
        assertEquals("quoted PCR 3 has 20 bytes, sha256 values have 32", assertThrows(TpmFormatException.class,
                () -> log.mismatchedPcrs(TpmHashAlg.SHA256, Map.of(3, new byte[20]))).getMessage());
    }

    /** PCR = H(PCR || H(data)), from {@code previous} (hex) or zero. */
    private static String extend(TpmHashAlg bank, String previous, String data) {
        MessageDigest hash = bank.newDigest();
        hash.update(previous == null ? new byte[bank.digestLength()] : java.util.HexFormat.of().parseHex(previous));
        hash.update(bank.digest(data.getBytes(StandardCharsets.US_ASCII)));
        return hexOf(hash.digest());
    }

    private static byte[] sha256(String data) {
        return TpmHashAlg.SHA256.digest(data.getBytes(StandardCharsets.US_ASCII));
    }

    private static Map<Integer, String> hex(SortedMap<Integer, byte[]> pcrs) {
        Map<Integer, String> hex = new HashMap<>();
        pcrs.forEach((pcr, value) -> hex.put(pcr, hexOf(value)));
        return hex;
    }

    private static String hexOf(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
