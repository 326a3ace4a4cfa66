package dev.bourne.tpm.common.eventlog;

import dev.bourne.tpm.common.TpmHashAlg;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * One event of a boot event log: the PCR it was extended into, its type (TCG PC Client Platform Firmware Profile,
 * section 10.4.1, e.g. {@code EV_SEPARATOR} 0x4), its digests in the banks Bourne knows and the event data the
 * firmware measured.
 *
 * <p>A final class, not a record: it holds byte arrays, which a record would compare by identity and expose for
 * mutation. Every accessor returns a copy, so an {@link EventLog} stays immutable. Digests of algorithms Bourne does not
 * know (SM3, SHA3) are parsed over and not kept.
 */
public final class Event {
    /** {@code EV_NO_ACTION}: informational, never extended into a PCR (Spec ID, StartupLocality). */
    public static final int EV_NO_ACTION = 0x3;
    /** {@code EV_SEPARATOR}: the end of the pre-OS measurements of a PCR. */
    public static final int EV_SEPARATOR = 0x4;

    private final int pcrIndex;
    private final int eventType;
    private final Map<TpmHashAlg, byte[]> digests;
    private final byte[] data;

    Event(int pcrIndex, int eventType, EnumMap<TpmHashAlg, byte[]> digests, byte[] data) {
        this.pcrIndex = pcrIndex;
        this.eventType = eventType;
        this.digests = digests;
        this.data = data;
    }

    /**
     * The PCR index as the log states it: 0-23 for measured events; for {@code EV_NO_ACTION} events whatever the
     * firmware wrote (read as unsigned 32 bits, so possibly negative here).
     */
    public int pcrIndex() {
        return pcrIndex;
    }

    /** The event type, an unsigned 32-bit value ({@code 0x80000001} and up are EFI events, negative as an int). */
    public int eventType() {
        return eventType;
    }

    /** Whether this event is informational and never extended ({@link #EV_NO_ACTION}). */
    public boolean isNoAction() {
        return eventType == EV_NO_ACTION;
    }

    /** The digests of this event in each known bank, copied. */
    public Map<TpmHashAlg, byte[]> digests() {
        EnumMap<TpmHashAlg, byte[]> copy = new EnumMap<>(TpmHashAlg.class);
        digests.forEach((alg, digest) -> copy.put(alg, digest.clone()));
        return Collections.unmodifiableMap(copy);
    }

    /** This event's digest in one bank, copied; empty when the log has no digest in that bank. */
    public Optional<byte[]> digest(TpmHashAlg bank) {
        byte[] digest = digests.get(bank);
        return digest == null ? Optional.empty() : Optional.of(digest.clone());
    }

    /** The event data, copied. */
    public byte[] data() {
        return data.clone();
    }

    /** The event data's length, without copying it. */
    public int dataLength() {
        return data.length;
    }

    /** The digest itself, for the replay in this package: never handed out. */
    byte[] digestUnsafe(TpmHashAlg bank) {
        return digests.get(bank);
    }

    byte[] dataUnsafe() {
        return data;
    }

    @Override
    public String toString() {
        return "Event[pcr=" + Integer.toUnsignedString(pcrIndex) + ", type=0x" + Integer.toHexString(eventType)
                + ", banks=" + digests.keySet() + ", dataBytes=" + data.length + "]";
    }
}
