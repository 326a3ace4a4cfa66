package dev.bourne.agent.workloadapi;

import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * An X.509-SVID the agent holds for one registration entry, ready to hand to a workload: the chain (leaf first, then
 * intermediates) and the private key the agent generated for it.
 *
 * <p>Equality covers the entry, the chain and the hint but not the key: a new key always comes with a new leaf.
 */
public final class WorkloadX509Svid {
    private final String entryId;
    private final X509Svid svid;
    private final WorkloadKey key;
    private final String hint;

    /**
     * @param entryId the registration entry this SVID was issued for
     * @param chain the leaf and its intermediates; checked against the X509-SVID profile
     * @param key the leaf's private key
     * @param hint the entry's hint for workloads choosing among several SVIDs, or "" for none
     * @throws X509SvidException when the chain is not an X.509-SVID
     */
    public WorkloadX509Svid(String entryId, List<X509Certificate> chain, WorkloadKey key, String hint)
            throws X509SvidException {
        this.entryId = Objects.requireNonNull(entryId, "entryId");
        this.svid = X509Svid.parse(chain);
        this.key = Objects.requireNonNull(key, "key");
        this.hint = Objects.requireNonNull(hint, "hint");
    }

    public String entryId() {
        return entryId;
    }

    public SpiffeId spiffeId() {
        return svid.spiffeId();
    }

    public List<X509Certificate> chain() {
        return svid.chain();
    }

    public WorkloadKey key() {
        return key;
    }

    public String hint() {
        return hint;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof WorkloadX509Svid that && entryId.equals(that.entryId)
                && svid.chain().equals(that.svid.chain()) && hint.equals(that.hint);
    }

    @Override
    public int hashCode() {
        return Objects.hash(entryId, svid.leaf(), hint);
    }

    @Override
    public String toString() {
        return "WorkloadX509Svid{entry " + entryId + ", " + svid + "}";
    }
}
