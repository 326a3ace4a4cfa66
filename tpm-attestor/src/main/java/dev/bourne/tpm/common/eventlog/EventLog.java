package dev.bourne.tpm.common.eventlog;

import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A TCG binary boot event log (TCG PC Client Platform Firmware Profile, section 10 "Event Logging"), parsed, and what it
 * replays to.
 *
 * <p>Two formats exist, both little-endian:
 * <ul>
 *   <li><b>SHA-1</b> ({@link Format#SHA1}, TPM 1.2 era firmware): every event is a {@code TCG_PCR_EVENT}: pcrIndex,
 *   eventType, one 20-byte SHA-1 digest, eventSize, event data.</li>
 *   <li><b>Crypto-agile</b> ({@link Format#CRYPTO_AGILE}): the first event is a {@code TCG_PCR_EVENT} of type
 *   {@code EV_NO_ACTION} whose data is the {@code TCG_EfiSpecIDEventStruct} "Spec ID Event03", listing every algorithm
 *   id and its digest size; every later event is a {@code TCG_PCR_EVENT2} whose {@code TPML_DIGEST_VALUES} carries one
 *   digest per declared algorithm.</li>
 * </ul>
 *
 * <p><b>Strict and bounded</b>, because an agent sends these bytes: the log is at most {@link #MAX_LOG_BYTES}, at most
 * {@link #MAX_EVENTS} events, each event's data at most {@link #MAX_EVENT_DATA_BYTES}; every length is checked against
 * its bound and against the bytes left before anything is allocated; digest counts and sizes must agree with the Spec ID
 * header (an algorithm the header does not declare has no known size, so the log cannot be read past it); a log must end
 * exactly after its last event. Any violation is a {@link TpmFormatException} whose message (one of the constants here)
 * names the event index and the field. Event data is not interpreted: its digest is what the TPM extended, and the
 * replay, not the data, is what a quote is compared with.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class EventLog {
    /** The largest log accepted: real firmware logs are tens of kilobytes (the largest real one here, 72 KB). */
    public static final int MAX_LOG_BYTES = 16 * 1024 * 1024;
    /** The most events accepted (real logs: tens to a few thousand). */
    public static final int MAX_EVENTS = 100_000;
    /** The largest event data accepted (the largest real events, Secure Boot databases, are tens of kilobytes). */
    public static final int MAX_EVENT_DATA_BYTES = 1024 * 1024;
    /** The most algorithms a Spec ID header may declare (TPMs have at most a handful of PCR banks). */
    public static final int MAX_ALGORITHMS = 16;
    /** The largest digest size an unknown algorithm may declare: the largest TPM digest (SHA-512, SHA3-512). */
    public static final int MAX_DIGEST_BYTES = 64;
    /** PCR indices of a PC Client TPM: 0 to 23. */
    public static final int PCR_COUNT = 24;

    public static final String EMPTY = "event log is empty";
    public static final String TOO_LARGE = "event log has %d bytes, more than the %d allowed";
    public static final String TOO_MANY_EVENTS = "event log has more than %d events";
    public static final String TRUNCATED = "event %d: %s truncated: needs %d bytes, %d remain";
    public static final String EVENT_TOO_LARGE = "event %d: eventSize %d is over the %d-byte limit";
    public static final String PCR_INDEX = "event %d: pcrIndex %d is not a PCR (0-23)";
    public static final String SPEC_ID_PCR = "event 0: Spec ID Event03 pcrIndex is %d, not 0";
    public static final String SPEC_ID_DIGEST = "event 0: Spec ID Event03 digest is not zero";
    public static final String SPEC_ID_ALGORITHM_COUNT = "event 0: Spec ID Event03 numberOfAlgorithms %d is not 1-%d";
    public static final String SPEC_ID_ALGORITHM_REPEATED = "event 0: Spec ID Event03 lists algorithm 0x%04x twice";
    public static final String SPEC_ID_DIGEST_SIZE = "event 0: Spec ID Event03 declares %s digests of %d bytes, not %d";
    public static final String SPEC_ID_UNKNOWN_DIGEST_SIZE =
            "event 0: Spec ID Event03 declares algorithm 0x%04x digests of %d bytes, not 1-%d";
    public static final String SPEC_ID_SIZE = "event 0: Spec ID Event03 eventSize %d, but its fields end after %d bytes";
    public static final String DIGEST_COUNT = "event %d: digestCount %d, but the Spec ID event declares %d algorithms";
    public static final String DIGEST_UNDECLARED =
            "event %d: digests[%d] algorithm 0x%04x is not declared in the Spec ID event";
    public static final String DIGEST_REPEATED = "event %d: digests[%d] repeats algorithm 0x%04x";
    public static final String STARTUP_LOCALITY_SIZE = "event %d: StartupLocality eventSize %d is not 17";
    public static final String STARTUP_LOCALITY_PCR = "event %d: StartupLocality pcrIndex %d is not 0";
    public static final String STARTUP_LOCALITY_VALUE = "event %d: StartupLocality %d is not 0, 3 or 4";
    public static final String STARTUP_LOCALITY_LATE =
            "event %d: StartupLocality after PCR 0 was already extended or initialised";
    public static final String QUOTED_PCR_INDEX = "quoted PCR %d is not a PCR (0-23)";
    public static final String QUOTED_PCR_SIZE = "quoted PCR %d has %d bytes, %s values have %d";

    /** How the log's events are encoded. */
    public enum Format {
        /** TCG_PCR_EVENT throughout: SHA-1 digests only. */
        SHA1,
        /** Spec ID Event03, then TCG_PCR_EVENT2 with one digest per declared algorithm. */
        CRYPTO_AGILE
    }

    private static final byte[] SPEC_ID_EVENT03 = "Spec ID Event03\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STARTUP_LOCALITY = "StartupLocality\0".getBytes(StandardCharsets.US_ASCII);
    private static final int STARTUP_LOCALITY_EVENT_BYTES = STARTUP_LOCALITY.length + 1;
    private static final int SHA1_DIGEST_BYTES = 20;
    private static final int FIRST_DRTM_PCR = 17;
    private static final int LAST_DRTM_PCR = 22;
    /** Field names for truncation messages, built once rather than per digest of every event. */
    private static final String[] HASH_ALG_FIELDS = new String[MAX_ALGORITHMS];
    private static final String[] DIGEST_FIELDS = new String[MAX_ALGORITHMS];

    static {
        for (int i = 0; i < MAX_ALGORITHMS; i++) {
            HASH_ALG_FIELDS[i] = "digests[" + i + "].hashAlg";
            DIGEST_FIELDS[i] = "digests[" + i + "].digest";
        }
    }

    private final Format format;
    private final Set<TpmHashAlg> banks;
    private final List<Event> events;
    private final OptionalInt startupLocality;

    private EventLog(Format format, Set<TpmHashAlg> banks, List<Event> events, OptionalInt startupLocality) {
        this.format = format;
        this.banks = banks;
        this.events = events;
        this.startupLocality = startupLocality;
    }

    /**
     * Parses a binary event log, either format.
     *
     * @throws TpmFormatException with one of this class's messages when the log is empty, oversized, truncated,
     *     inconsistent with its Spec ID header, or has bytes after its last event
     */
    public static EventLog parse(byte[] log) {
        Objects.requireNonNull(log, "log");
        if (log.length == 0) {
            throw new TpmFormatException(EMPTY);
        }
        if (log.length > MAX_LOG_BYTES) {
            throw new TpmFormatException(String.format(TOO_LARGE, log.length, MAX_LOG_BYTES));
        }
        Reader in = new Reader(log);
        List<Event> events = new ArrayList<>();
        Event first = readSha1Event(in, 0);
        Map<Integer, Integer> digestSizes = null;
        if (first.isNoAction() && startsWith(first.dataUnsafe(), SPEC_ID_EVENT03)) {
            digestSizes = parseSpecId(first);
        }
        events.add(first);
        LocalityTracker locality = new LocalityTracker();
        locality.accept(first, 0);
        while (in.remaining() > 0) {
            int index = events.size();
            if (index >= MAX_EVENTS) {
                throw new TpmFormatException(String.format(TOO_MANY_EVENTS, MAX_EVENTS));
            }
            Event event = digestSizes == null ? readSha1Event(in, index) : readEvent2(in, index, digestSizes);
            locality.accept(event, index);
            events.add(event);
        }
        Format format = digestSizes == null ? Format.SHA1 : Format.CRYPTO_AGILE;
        EnumSet<TpmHashAlg> banks = EnumSet.noneOf(TpmHashAlg.class);
        if (digestSizes == null) {
            banks.add(TpmHashAlg.SHA1);
        } else {
            digestSizes.keySet().forEach(id -> TpmHashAlg.fromId(id).ifPresent(banks::add));
        }
        return new EventLog(format, Collections.unmodifiableSet(banks), Collections.unmodifiableList(events),
                locality.locality);
    }

    /** A TCG_PCR_EVENT: pcrIndex, eventType, SHA-1 digest, eventSize, event. */
    private static Event readSha1Event(Reader in, int index) {
        int pcrIndex = in.u32(index, "pcrIndex");
        int eventType = in.u32(index, "eventType");
        byte[] digest = in.bytes(index, "digest", SHA1_DIGEST_BYTES);
        byte[] data = readData(in, index);
        checkPcr(index, pcrIndex, eventType);
        EnumMap<TpmHashAlg, byte[]> digests = new EnumMap<>(TpmHashAlg.class);
        digests.put(TpmHashAlg.SHA1, digest);
        return new Event(pcrIndex, eventType, digests, data);
    }

    /** A TCG_PCR_EVENT2: pcrIndex, eventType, TPML_DIGEST_VALUES, eventSize, event. */
    private static Event readEvent2(Reader in, int index, Map<Integer, Integer> digestSizes) {
        int pcrIndex = in.u32(index, "pcrIndex");
        int eventType = in.u32(index, "eventType");
        int count = in.u32(index, "digestCount");
        if (count != digestSizes.size()) {
            throw new TpmFormatException(String.format(DIGEST_COUNT, index, Integer.toUnsignedLong(count),
                    digestSizes.size()));
        }
        EnumMap<TpmHashAlg, byte[]> digests = new EnumMap<>(TpmHashAlg.class);
        int[] seen = new int[count];
        for (int i = 0; i < count; i++) {
            int alg = in.u16(index, HASH_ALG_FIELDS[i]);
            Integer size = digestSizes.get(alg);
            if (size == null) {
                throw new TpmFormatException(String.format(DIGEST_UNDECLARED, index, i, alg));
            }
            for (int j = 0; j < i; j++) {
                if (seen[j] == alg) {
                    throw new TpmFormatException(String.format(DIGEST_REPEATED, index, i, alg));
                }
            }
            seen[i] = alg;
            byte[] digest = in.bytes(index, DIGEST_FIELDS[i], size);
            TpmHashAlg.fromId(alg).ifPresent(known -> digests.put(known, digest));
        }
        byte[] data = readData(in, index);
        checkPcr(index, pcrIndex, eventType);
        return new Event(pcrIndex, eventType, digests, data);
    }

    private static byte[] readData(Reader in, int index) {
        int size = in.u32(index, "eventSize");
        if (Integer.toUnsignedLong(size) > MAX_EVENT_DATA_BYTES) {
            throw new TpmFormatException(String.format(EVENT_TOO_LARGE, index, Integer.toUnsignedLong(size),
                    MAX_EVENT_DATA_BYTES));
        }
        return in.bytes(index, "event data", size);
    }

    /** Measured events must name a real PCR; EV_NO_ACTION events are never extended, so their index is not used. */
    private static void checkPcr(int index, int pcrIndex, int eventType) {
        if (eventType != Event.EV_NO_ACTION && Integer.toUnsignedLong(pcrIndex) >= PCR_COUNT) {
            throw new TpmFormatException(String.format(PCR_INDEX, index, Integer.toUnsignedLong(pcrIndex)));
        }
    }

    /**
     * The TCG_EfiSpecIDEventStruct of a crypto-agile log: signature, platformClass, specVersionMinor/Major, specErrata,
     * uintnSize, numberOfAlgorithms, {algorithmId, digestSize}[n], vendorInfoSize, vendorInfo.
     *
     * @return algorithm id to digest size, in header order
     */
    private static Map<Integer, Integer> parseSpecId(Event event) {
        if (event.pcrIndex() != 0) {
            throw new TpmFormatException(String.format(SPEC_ID_PCR, Integer.toUnsignedLong(event.pcrIndex())));
        }
        for (byte b : event.digestUnsafe(TpmHashAlg.SHA1)) {
            if (b != 0) {
                throw new TpmFormatException(SPEC_ID_DIGEST);
            }
        }
        byte[] data = event.dataUnsafe();
        Reader in = new Reader(data);
        in.bytes(0, "Spec ID Event03 signature", SPEC_ID_EVENT03.length);
        in.u32(0, "Spec ID Event03 platformClass");
        in.bytes(0, "Spec ID Event03 specVersion, specErrata and uintnSize", 4);
        int count = in.u32(0, "Spec ID Event03 numberOfAlgorithms");
        if (count < 1 || count > MAX_ALGORITHMS) {
            throw new TpmFormatException(String.format(SPEC_ID_ALGORITHM_COUNT, Integer.toUnsignedLong(count),
                    MAX_ALGORITHMS));
        }
        Map<Integer, Integer> sizes = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int alg = in.u16(0, "Spec ID Event03 digestSizes[" + i + "].algorithmId");
            int size = in.u16(0, "Spec ID Event03 digestSizes[" + i + "].digestSize");
            if (sizes.containsKey(alg)) {
                throw new TpmFormatException(String.format(SPEC_ID_ALGORITHM_REPEATED, alg));
            }
            TpmHashAlg known = TpmHashAlg.fromId(alg).orElse(null);
            if (known != null && size != known.digestLength()) {
                throw new TpmFormatException(String.format(SPEC_ID_DIGEST_SIZE, known.configName(), size,
                        known.digestLength()));
            }
            if (known == null && (size < 1 || size > MAX_DIGEST_BYTES)) {
                throw new TpmFormatException(String.format(SPEC_ID_UNKNOWN_DIGEST_SIZE, alg, size,
                        MAX_DIGEST_BYTES));
            }
            sizes.put(alg, size);
        }
        int vendorInfoSize = in.u8(0, "Spec ID Event03 vendorInfoSize");
        in.bytes(0, "Spec ID Event03 vendorInfo", vendorInfoSize);
        if (in.remaining() != 0) {
            throw new TpmFormatException(String.format(SPEC_ID_SIZE, data.length, data.length - in.remaining()));
        }
        return Collections.unmodifiableMap(sizes);
    }

    /**
     * The StartupLocality EV_NO_ACTION event (PC Client Firmware Profile, "Startup Locality Event"): the locality from
     * which TPM2_Startup ran, which is PCR 0's initial value (3 after an H-CRTM or locality-3 startup, 4 for an H-CRTM
     * event sequence). It must come before anything touches PCR 0, and only once.
     */
    private static final class LocalityTracker {
        private OptionalInt locality = OptionalInt.empty();
        private boolean pcr0Touched;

        void accept(Event event, int index) {
            if (event.isNoAction()) {
                byte[] data = event.dataUnsafe();
                if (!startsWith(data, STARTUP_LOCALITY)) {
                    return;
                }
                if (data.length != STARTUP_LOCALITY_EVENT_BYTES) {
                    throw new TpmFormatException(String.format(STARTUP_LOCALITY_SIZE, index, data.length));
                }
                if (event.pcrIndex() != 0) {
                    throw new TpmFormatException(String.format(STARTUP_LOCALITY_PCR, index,
                            Integer.toUnsignedLong(event.pcrIndex())));
                }
                int value = data[STARTUP_LOCALITY.length] & 0xFF;
                if (value != 0 && value != 3 && value != 4) {
                    throw new TpmFormatException(String.format(STARTUP_LOCALITY_VALUE, index, value));
                }
                if (pcr0Touched) {
                    throw new TpmFormatException(String.format(STARTUP_LOCALITY_LATE, index));
                }
                pcr0Touched = true;
                locality = OptionalInt.of(value);
            } else if (event.pcrIndex() == 0) {
                pcr0Touched = true;
            }
        }
    }

    /** Which of the two encodings this log uses. */
    public Format format() {
        return format;
    }

    /**
     * The PCR banks this log can be replayed in: SHA-1 for a SHA-1 log; the algorithms of a crypto-agile log's Spec ID
     * header that Bourne knows ({@link TpmHashAlg}). Others are parsed over and ignored.
     */
    public Set<TpmHashAlg> banks() {
        return banks;
    }

    /** The events in log order, the Spec ID event (if any) first. Events are immutable. */
    public List<Event> events() {
        return events;
    }

    /** The locality of the StartupLocality event, when the log has one. */
    public OptionalInt startupLocality() {
        return startupLocality;
    }

    /**
     * The PCR values this log replays to, per bank in {@link #banks()}: each PCR starts at zero (PCR 0 at the
     * StartupLocality value in its last byte, when the log has that event) and is extended, {@code PCR = H(PCR ||
     * digest)}, with the digest of every event in log order; EV_NO_ACTION events are skipped. Only PCRs that an event
     * extended (or that StartupLocality initialised) are in a bank's map. Fresh copies on every call.
     */
    public Map<TpmHashAlg, SortedMap<Integer, byte[]>> replay() {
        EnumMap<TpmHashAlg, SortedMap<Integer, byte[]>> result = new EnumMap<>(TpmHashAlg.class);
        for (TpmHashAlg bank : banks) {
            result.put(bank, Collections.unmodifiableSortedMap(replay(bank)));
        }
        return Collections.unmodifiableMap(result);
    }

    /** {@link #replay()} for one bank; empty when the log has no digests in that bank. */
    public SortedMap<Integer, byte[]> replay(TpmHashAlg bank) {
        Objects.requireNonNull(bank, "bank");
        TreeMap<Integer, byte[]> pcrs = new TreeMap<>();
        if (!banks.contains(bank)) {
            return pcrs;
        }
        startupLocality.ifPresent(value -> {
            byte[] initial = new byte[bank.digestLength()];
            initial[initial.length - 1] = (byte) value;
            pcrs.put(0, initial);
        });
        MessageDigest hash = bank.newDigest();
        for (Event event : events) {
            if (event.isNoAction()) {
                continue;
            }
            byte[] current = pcrs.get(event.pcrIndex());
            hash.update(current == null ? new byte[bank.digestLength()] : current);
            hash.update(event.digestUnsafe(bank));
            pcrs.put(event.pcrIndex(), hash.digest());
        }
        return pcrs;
    }

    /**
     * The quoted PCRs whose values this log does not account for; empty when the log matches the quote.
     *
     * <p>A PCR the log extends must equal the replay. A PCR the log never extends must hold the value a PC Client TPM
     * gives it at TPM2_Startup (PC Client Platform TPM Profile, PCR attributes): all zero, except PCRs 17-22 (the
     * dynamic root of trust's, unused by firmware boot) which start at all ones; and PCR 0 at the StartupLocality value
     * when the log has that event. So a quote cannot hide a measurement the log leaves out: any extension outside the
     * log changes a PCR away from its start value and is reported. PCRs the server did not have quoted are not checked:
     * the server must quote every PCR its policy depends on. A bank the log does not carry replays nothing, so every
     * extended PCR in it mismatches.
     *
     * @param bank the bank of the quote's PCR selection
     * @param quotedPcrValues PCR index to value, from a quote whose pcrDigest the caller has verified
     * @throws TpmFormatException {@link #QUOTED_PCR_INDEX} or {@link #QUOTED_PCR_SIZE} when an index is not 0-23 or a
     *     value is not a digest of {@code bank}
     */
    public SortedSet<Integer> mismatchedPcrs(TpmHashAlg bank, Map<Integer, byte[]> quotedPcrValues) {
        Objects.requireNonNull(bank, "bank");
        Objects.requireNonNull(quotedPcrValues, "quotedPcrValues");
        SortedMap<Integer, byte[]> replayed = replay(bank);
        TreeSet<Integer> mismatched = new TreeSet<>();
        for (Map.Entry<Integer, byte[]> quoted : quotedPcrValues.entrySet()) {
            int pcr = Objects.requireNonNull(quoted.getKey(), "PCR index");
            byte[] value = Objects.requireNonNull(quoted.getValue(), "PCR value");
            if (pcr < 0 || pcr >= PCR_COUNT) {
                throw new TpmFormatException(String.format(QUOTED_PCR_INDEX, pcr));
            }
            if (value.length != bank.digestLength()) {
                throw new TpmFormatException(String.format(QUOTED_PCR_SIZE, pcr, value.length, bank.configName(),
                        bank.digestLength()));
            }
            byte[] expected = replayed.get(pcr);
            if (expected == null) {
                expected = startValue(bank, pcr);
            }
            if (!MessageDigest.isEqual(expected, value)) {
                mismatched.add(pcr);
            }
        }
        return Collections.unmodifiableSortedSet(mismatched);
    }

    /** Whether every quoted PCR matches: {@link #mismatchedPcrs} is empty. */
    public boolean replaysTo(TpmHashAlg bank, Map<Integer, byte[]> quotedPcrValues) {
        return mismatchedPcrs(bank, quotedPcrValues).isEmpty();
    }

    /** A PCR's value after TPM2_Startup on a PC Client TPM: zero, or all ones for the DRTM PCRs 17-22. */
    static byte[] startValue(TpmHashAlg bank, int pcr) {
        byte[] value = new byte[bank.digestLength()];
        if (pcr >= FIRST_DRTM_PCR && pcr <= LAST_DRTM_PCR) {
            Arrays.fill(value, (byte) 0xFF);
        }
        return value;
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        return data.length >= prefix.length && Arrays.equals(data, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public String toString() {
        return "EventLog[" + format + ", banks=" + banks + ", events=" + events.size() + "]";
    }

    /** A little-endian cursor whose every read is bounded by the bytes left, naming the event and field when not. */
    private static final class Reader {
        private final byte[] bytes;
        private int position;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        int remaining() {
            return bytes.length - position;
        }

        private void need(int index, String field, long count) {
            if (count > remaining()) {
                throw new TpmFormatException(String.format(TRUNCATED, index, field, count, remaining()));
            }
        }

        int u8(int index, String field) {
            need(index, field, 1);
            return bytes[position++] & 0xFF;
        }

        int u16(int index, String field) {
            need(index, field, 2);
            int value = (bytes[position] & 0xFF) | (bytes[position + 1] & 0xFF) << 8;
            position += 2;
            return value;
        }

        int u32(int index, String field) {
            need(index, field, 4);
            int value = (bytes[position] & 0xFF) | (bytes[position + 1] & 0xFF) << 8
                    | (bytes[position + 2] & 0xFF) << 16 | (bytes[position + 3] & 0xFF) << 24;
            position += 4;
            return value;
        }

        /** {@code count} bytes, read as unsigned; allocated only once the log is known to hold them. */
        byte[] bytes(int index, String field, int count) {
            need(index, field, Integer.toUnsignedLong(count));
            byte[] value = Arrays.copyOfRange(bytes, position, position + count);
            position += count;
            return value;
        }
    }
}
