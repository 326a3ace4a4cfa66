package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CertificateRequests;
import dev.bourne.appliance.ca.IssuedJwtSvid;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.spiffeid.TrustDomain;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Workload SVIDs an agent asks for on behalf of its workloads, and the entry sync: every decision goes through
 * {@link AuthorizedEntries}, so an agent gets identities only for entries it is authorised for.
 */
public final class EntrySvids {
    /** Largest batch of SVID requests or known entries in one call. */
    public static final int MAX_BATCH = 1000;
    public static final int MAX_KNOWN_ENTRIES = 100_000;
    public static final int MAX_ENTRY_ID_CHARS = 255;

    public static final String ENTRY_ID_MISSING = "entry_id is required";
    public static final String ENTRY_ID_TOO_LONG = "entry_id is longer than " + MAX_ENTRY_ID_CHARS + " characters";
    public static final String ENTRY_NOT_FOUND = "no registration entry has this ID";
    public static final String NOT_AUTHORIZED = "the agent is not authorised for this entry";
    public static final String CSR_MISSING = "csr is required";
    public static final String BATCH_TOO_LARGE = "more than " + MAX_BATCH + " requests in one batch";
    public static final String KNOWN_TOO_LARGE = "more than " + MAX_KNOWN_ENTRIES + " known entries";

    private final DataStore dataStore;
    private final AuthorizedEntries authorizedEntries;
    private final AuthorizedBundles authorizedBundles;
    private final CaManager ca;
    private final X509SvidIssuer x509Issuer;
    private final JwtSvidIssuer jwtIssuer;
    private final Duration defaultX509Ttl;
    private final Duration defaultJwtTtl;
    private final Optional<URI> jwtIssuerUri;
    private final AuditLog audit;
    private final ServerMetrics metrics;

    public EntrySvids(DataStore dataStore, AuthorizedEntries authorizedEntries, CaManager ca,
            X509SvidIssuer x509Issuer, JwtSvidIssuer jwtIssuer, Duration defaultX509Ttl, Duration defaultJwtTtl,
            Optional<URI> jwtIssuerUri, AuditLog audit, ServerMetrics metrics) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.authorizedEntries = Objects.requireNonNull(authorizedEntries, "authorizedEntries");
        this.authorizedBundles = new AuthorizedBundles(dataStore, authorizedEntries.trustDomain());
        this.ca = Objects.requireNonNull(ca, "ca");
        this.x509Issuer = Objects.requireNonNull(x509Issuer, "x509Issuer");
        this.jwtIssuer = Objects.requireNonNull(jwtIssuer, "jwtIssuer");
        this.defaultX509Ttl = Objects.requireNonNull(defaultX509Ttl, "defaultX509Ttl");
        this.defaultJwtTtl = Objects.requireNonNull(defaultJwtTtl, "defaultJwtTtl");
        this.jwtIssuerUri = Objects.requireNonNull(jwtIssuerUri, "jwtIssuerUri");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** One X.509-SVID request of a batch. */
    public record X509Request(String entryId, byte[] csr) {
    }

    /** The outcome of one request: the SVID, or the failure the edge maps to a per-item status. */
    public record Outcome<T>(Optional<T> svid, Optional<Exception> failure) {
    }

    /** Issues an X.509-SVID per request, each independently: one refused request does not fail the others. */
    public List<Outcome<IssuedX509Svid>> newX509Svids(CallerAgent caller, List<X509Request> requests)
            throws Exception {
        if (requests.size() > MAX_BATCH) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, BATCH_TOO_LARGE);
        }
        Map<String, RegistrationEntry> authorized = authorizedEntries.forNode(caller.node());
        List<Outcome<IssuedX509Svid>> outcomes = new ArrayList<>();
        for (X509Request request : requests) {
            try {
                RegistrationEntry entry = authorizedEntry(caller, authorized, request.entryId(), "X.509");
                if (request.csr().length == 0) {
                    throw new ApiException(ApiException.Code.INVALID_ARGUMENT, CSR_MISSING);
                }
                if (request.csr().length > CertificateRequests.MAX_CSR_BYTES) {
                    throw new ApiException(ApiException.Code.INVALID_ARGUMENT, CertificateRequests.TOO_LARGE);
                }
                Duration ttl = entry.x509SvidTtl().isZero() ? defaultX509Ttl : entry.x509SvidTtl();
                IssuedX509Svid svid = x509Issuer.issue(ca.activeX509Authority(), request.csr(), entry.spiffeId(),
                        entry.dnsNames(), ttl);
                audit.svidIssued("X.509", caller.agentId(), entry.id(), entry.spiffeId(),
                        "serial=" + svid.serialNumber());
                metrics.svidIssued(ServerMetrics.SvidKind.X509);
                outcomes.add(new Outcome<>(Optional.of(svid), Optional.empty()));
            } catch (Exception e) {
                outcomes.add(new Outcome<>(Optional.empty(), Optional.of(e)));
            }
        }
        return outcomes;
    }

    /** A JWT-SVID for an authorised entry, for {@code audience} (required). */
    public IssuedJwtSvid newJwtSvid(CallerAgent caller, String entryId, List<String> audience) throws Exception {
        RegistrationEntry entry = authorizedEntry(caller, authorizedEntries.forNode(caller.node()), entryId, "JWT");
        Duration ttl = entry.jwtSvidTtl().isZero() ? defaultJwtTtl : entry.jwtSvidTtl();
        IssuedJwtSvid svid = jwtIssuer.issue(ca.activeJwtAuthority(), entry.spiffeId(), audience, ttl, jwtIssuerUri);
        audit.svidIssued("JWT", caller.agentId(), entry.id(), entry.spiffeId(), "audience=" + svid.audience());
        metrics.svidIssued(ServerMetrics.SvidKind.JWT);
        return svid;
    }

    /**
     * What changed since the agent's view: entries it lacks or holds at another revision, IDs it must drop, and the
     * same for the federated bundles its entries need ({@link AuthorizedBundles}).
     *
     * @param changed entries new to the agent or changed
     * @param removedIds entries the agent must drop, sorted
     * @param federatedBundles federated bundles new to the agent or changed
     * @param removedFederatedBundles trust domains whose bundles the agent must drop
     */
    public record Sync(List<RegistrationEntry> changed, List<String> removedIds,
            List<AuthorizedBundles.Versioned> federatedBundles, List<TrustDomain> removedFederatedBundles) {
        public Sync {
            changed = List.copyOf(changed);
            removedIds = List.copyOf(removedIds);
            federatedBundles = List.copyOf(federatedBundles);
            removedFederatedBundles = List.copyOf(removedFederatedBundles);
        }
    }

    /** {@link #sync(CallerAgent, Map, Map)} for an agent that holds no federated bundle. */
    public Sync sync(CallerAgent caller, Map<String, Long> known) throws Exception {
        return sync(caller, known, Map.of());
    }

    /**
     * Compares the agent's {@code known} entry revisions and {@code knownBundles} digests with the entries it is
     * authorised for now and the federated bundles those entries need.
     */
    public Sync sync(CallerAgent caller, Map<String, Long> known, Map<TrustDomain, String> knownBundles)
            throws Exception {
        if (known.size() > MAX_KNOWN_ENTRIES) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, KNOWN_TOO_LARGE);
        }
        if (knownBundles.size() > AuthorizedBundles.MAX_KNOWN_BUNDLES) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, AuthorizedBundles.KNOWN_BUNDLES_TOO_LARGE);
        }
        Map<String, RegistrationEntry> authorized = authorizedEntries.forNode(caller.node());
        List<RegistrationEntry> changed = new ArrayList<>();
        for (RegistrationEntry entry : authorized.values()) {
            Long revision = known.get(entry.id());
            if (revision == null || revision != entry.revisionNumber()) {
                changed.add(entry);
            }
        }
        List<String> removed = new ArrayList<>();
        for (String id : known.keySet()) {
            if (!authorized.containsKey(id)) {
                removed.add(id);
            }
        }
        removed.sort(null);
        AuthorizedBundles.Changes bundles = authorizedBundles.changes(authorized.values(), knownBundles);
        return new Sync(changed, removed, bundles.changed(), bundles.removed());
    }

    private RegistrationEntry authorizedEntry(CallerAgent caller, Map<String, RegistrationEntry> authorized,
            String entryId, String kind) throws Exception {
        if (entryId.isEmpty()) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, ENTRY_ID_MISSING);
        }
        if (entryId.length() > MAX_ENTRY_ID_CHARS) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, ENTRY_ID_TOO_LONG);
        }
        RegistrationEntry entry = authorized.get(entryId);
        if (entry != null) {
            return entry;
        }
        if (dataStore.getEntry(entryId).isEmpty()) {
            throw new ApiException(ApiException.Code.NOT_FOUND, ENTRY_NOT_FOUND);
        }
        // An agent asking for another agent's identity: refused and audited.
        audit.svidRefused(kind, caller.agentId(), entryId, NOT_AUTHORIZED);
        throw new ApiException(ApiException.Code.PERMISSION_DENIED, NOT_AUTHORIZED);
    }

    /** Builds the {@code known} map, keeping the first revision of a repeated ID. */
    static Map<String, Long> knownMap(List<Map.Entry<String, Long>> pairs) {
        Map<String, Long> known = new HashMap<>();
        for (Map.Entry<String, Long> pair : pairs) {
            known.putIfAbsent(pair.getKey(), pair.getValue());
        }
        return known;
    }
}
