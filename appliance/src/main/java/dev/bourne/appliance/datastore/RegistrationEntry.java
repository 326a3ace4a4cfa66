package dev.bourne.appliance.datastore;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A registration entry: the workloads (or downstream servers, or node aliases) that get the SVID for
 * {@code spiffeId}, namely those attested under {@code parentId} whose selectors include all of {@code selectors}.
 * Modelled on SPIRE's entry so entries written for SPIRE move over unchanged.
 *
 * <p>Built with {@link #builder()}. On {@link DataStore#createEntry create}, an empty {@code id} asks the datastore to
 * choose one, and {@code revisionNumber} and {@code createdAt} are ignored: the datastore sets them (0 and now).
 *
 * @param id the entry ID (empty only before creation)
 * @param spiffeId the SPIFFE ID issued to matching workloads
 * @param parentId the node (agent or alias) the workloads run under
 * @param selectors the selector set, sorted and without duplicates; never empty in a stored entry
 * @param x509SvidTtl lifetime of X.509-SVIDs; zero means the server default
 * @param jwtSvidTtl lifetime of JWT-SVIDs; zero means the server default
 * @param federatesWith trust domains whose bundles the workloads receive, sorted, no duplicates
 * @param admin whether the workloads may call the server's admin API
 * @param downstream whether the workloads are downstream servers (get a CA certificate)
 * @param dnsNames DNS SANs, in the order given (the first is the certificate's common name)
 * @param revisionNumber 0 when created, incremented by every update
 * @param storeSvid whether the agent stores the SVID through its SVIDStore instead of serving it
 * @param hint a free text hint for workloads holding several identities; empty for none
 * @param createdAt when the entry was created, to the second
 */
public record RegistrationEntry(
        String id,
        SpiffeId spiffeId,
        SpiffeId parentId,
        List<Selector> selectors,
        Duration x509SvidTtl,
        Duration jwtSvidTtl,
        List<TrustDomain> federatesWith,
        boolean admin,
        boolean downstream,
        List<String> dnsNames,
        long revisionNumber,
        boolean storeSvid,
        String hint,
        Instant createdAt) {

    public RegistrationEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(parentId, "parentId");
        selectors = List.copyOf(new TreeSet<>(Objects.requireNonNull(selectors, "selectors")));
        Objects.requireNonNull(x509SvidTtl, "x509SvidTtl");
        Objects.requireNonNull(jwtSvidTtl, "jwtSvidTtl");
        federatesWith = List.copyOf(new TreeSet<>(Objects.requireNonNull(federatesWith, "federatesWith")));
        dnsNames = List.copyOf(Objects.requireNonNull(dnsNames, "dnsNames"));
        Objects.requireNonNull(hint, "hint");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this entry's values, to derive a changed copy. */
    public Builder toBuilder() {
        return new Builder().id(id).spiffeId(spiffeId).parentId(parentId).selectors(selectors)
                .x509SvidTtl(x509SvidTtl).jwtSvidTtl(jwtSvidTtl).federatesWith(federatesWith).admin(admin)
                .downstream(downstream).dnsNames(dnsNames).revisionNumber(revisionNumber).storeSvid(storeSvid)
                .hint(hint).createdAt(createdAt);
    }

    /** Builds a {@link RegistrationEntry}; {@code spiffeId} and {@code parentId} are required, the rest default. */
    public static final class Builder {
        private String id = "";
        private SpiffeId spiffeId;
        private SpiffeId parentId;
        private List<Selector> selectors = new ArrayList<>();
        private Duration x509SvidTtl = Duration.ZERO;
        private Duration jwtSvidTtl = Duration.ZERO;
        private List<TrustDomain> federatesWith = new ArrayList<>();
        private boolean admin;
        private boolean downstream;
        private List<String> dnsNames = new ArrayList<>();
        private long revisionNumber;
        private boolean storeSvid;
        private String hint = "";
        private Instant createdAt = Instant.EPOCH;

        private Builder() {
        }

        public Builder id(String value) {
            id = value;
            return this;
        }

        public Builder spiffeId(SpiffeId value) {
            spiffeId = value;
            return this;
        }

        public Builder parentId(SpiffeId value) {
            parentId = value;
            return this;
        }

        public Builder selectors(List<Selector> value) {
            selectors = new ArrayList<>(value);
            return this;
        }

        public Builder selector(Selector value) {
            selectors.add(value);
            return this;
        }

        public Builder x509SvidTtl(Duration value) {
            x509SvidTtl = value;
            return this;
        }

        public Builder jwtSvidTtl(Duration value) {
            jwtSvidTtl = value;
            return this;
        }

        public Builder federatesWith(List<TrustDomain> value) {
            federatesWith = new ArrayList<>(value);
            return this;
        }

        public Builder admin(boolean value) {
            admin = value;
            return this;
        }

        public Builder downstream(boolean value) {
            downstream = value;
            return this;
        }

        public Builder dnsNames(List<String> value) {
            dnsNames = new ArrayList<>(value);
            return this;
        }

        public Builder revisionNumber(long value) {
            revisionNumber = value;
            return this;
        }

        public Builder storeSvid(boolean value) {
            storeSvid = value;
            return this;
        }

        public Builder hint(String value) {
            hint = value;
            return this;
        }

        public Builder createdAt(Instant value) {
            createdAt = value;
            return this;
        }

        public RegistrationEntry build() {
            return new RegistrationEntry(id, spiffeId, parentId, selectors, x509SvidTtl, jwtSvidTtl, federatesWith,
                    admin, downstream, dnsNames, revisionNumber, storeSvid, hint, createdAt);
        }
    }
}
