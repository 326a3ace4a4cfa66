package dev.bourne.agent.sync;

import dev.bourne.agent.node.ServerCallException;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.List;
import java.util.Map;

/**
 * The server calls the entry synchroniser makes, as domain values: the gRPC client implements it over mTLS, tests
 * with a {@code Fake} that signs with a test CA.
 */
public interface EntryServer {

    /**
     * SyncAuthorizedEntries: what changed since the entry revisions and federated bundle digests the agent holds.
     *
     * @param known the revision of each entry the agent holds (served or ignored), by entry id
     * @param knownBundles the digest of each federated bundle the agent holds, by trust domain
     */
    EntryChanges sync(Map<String, Long> known, Map<TrustDomain, String> knownBundles) throws ServerCallException;

    /** BatchNewX509SVID: one result per request, in request order. */
    List<SvidResult> newX509Svids(List<SvidRequest> requests) throws ServerCallException;

    /** NewJWTSVID: a JWT-SVID for the SPIFFE ID of {@code entryId}. */
    JwtToken newJwtSvid(String entryId, List<String> audience) throws ServerCallException;

    /** GetBundle: the trust domain's current bundle. */
    SpiffeBundle bundle() throws ServerCallException;
}
