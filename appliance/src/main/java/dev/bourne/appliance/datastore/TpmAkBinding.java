package dev.bourne.appliance.datastore;

import dev.bourne.tpm.common.EkHash;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The attestation key (AK) a TPM node proved at attestation, bound to its EK hash: continuous attestation accepts
 * renewal quotes from this AK only, so a node cannot swap in another key (or another TPM's) after attesting. Public
 * material only; a final class rather than a record because it holds byte arrays (copied in and out, compared by
 * content).
 */
public final class TpmAkBinding {
    private final String ekHash;
    private final byte[] akPublic;
    private final byte[] akName;
    private final Instant boundAt;
    private final Instant updatedAt;

    /**
     * @param ekHash the node's EK hash ({@link EkHash}), normalised to lowercase
     * @param akPublic the AK's TPMT_PUBLIC as the TPM marshals it
     * @param akName the AK's TPM name, nameAlg || H(TPMT_PUBLIC), as the server computed it
     * @param boundAt when the node first bound an AK (kept when the binding is replaced)
     * @param updatedAt when the binding was last set
     */
    public TpmAkBinding(String ekHash, byte[] akPublic, byte[] akName, Instant boundAt, Instant updatedAt) {
        this.ekHash = EkHash.parse(ekHash);
        this.akPublic = Objects.requireNonNull(akPublic, "akPublic").clone();
        this.akName = Objects.requireNonNull(akName, "akName").clone();
        this.boundAt = Objects.requireNonNull(boundAt, "boundAt");
        this.updatedAt = Objects.requireNonNull(updatedAt, "updatedAt");
    }

    public String ekHash() {
        return ekHash;
    }

    /** A copy of the AK's TPMT_PUBLIC. */
    public byte[] akPublic() {
        return akPublic.clone();
    }

    /** A copy of the AK's TPM name. */
    public byte[] akName() {
        return akName.clone();
    }

    public Instant boundAt() {
        return boundAt;
    }

    public Instant updatedAt() {
        return updatedAt;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TpmAkBinding other && ekHash.equals(other.ekHash) && Arrays.equals(akPublic, other.akPublic)
                && Arrays.equals(akName, other.akName) && boundAt.equals(other.boundAt)
                && updatedAt.equals(other.updatedAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(ekHash, Arrays.hashCode(akName), boundAt, updatedAt);
    }

    @Override
    public String toString() {
        return "TpmAkBinding[ekHash=" + ekHash + ", akName=" + HexFormat.of().formatHex(akName) + ", boundAt="
                + boundAt + ", updatedAt=" + updatedAt + "]";
    }
}
