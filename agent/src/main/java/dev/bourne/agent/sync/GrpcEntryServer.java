package dev.bourne.agent.sync;

import com.google.protobuf.ByteString;
import dev.bourne.agent.node.AgentApiClient;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.node.ServerConnection;
import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.EntryRevision;
import dev.bourne.api.v1.FederatedBundle;
import dev.bourne.api.v1.FederatedBundleRevision;
import dev.bourne.api.v1.JWTSVID;
import dev.bourne.api.v1.NewJWTSVIDRequest;
import dev.bourne.api.v1.NewX509SVIDParams;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.StatusRuntimeException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@link EntryServer} over the agent's mTLS channel to the server (Entry, SVID and Bundle services). */
public final class GrpcEntryServer implements EntryServer {
    private final ServerConnection connection;
    private final TrustDomain trustDomain;
    private final AgentApiClient agentApi;

    public GrpcEntryServer(ServerConnection connection, TrustDomain trustDomain, AgentApiClient agentApi) {
        this.connection = connection;
        this.trustDomain = trustDomain;
        this.agentApi = agentApi;
    }

    @Override
    public EntryChanges sync(Map<String, Long> known, Map<TrustDomain, String> knownBundles)
            throws ServerCallException {
        SyncAuthorizedEntriesRequest.Builder request = SyncAuthorizedEntriesRequest.newBuilder();
        known.forEach((id, revision) -> request.addKnown(EntryRevision.newBuilder().setId(id)
                .setRevisionNumber(revision)));
        knownBundles.forEach((td, digest) -> request.addKnownFederatedBundles(FederatedBundleRevision.newBuilder()
                .setTrustDomain(td.name()).setDigest(ByteString.copyFrom(HexFormat.of().parseHex(digest)))));
        SyncAuthorizedEntriesResponse response;
        try {
            response = EntryGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .syncAuthorizedEntries(request.build());
        } catch (StatusRuntimeException e) {
            throw ServerConnection.failure("SyncAuthorizedEntries", e);
        }
        List<SyncedEntry> changed = new ArrayList<>();
        List<EntryChanges.Ignored> ignored = new ArrayList<>();
        for (RegistrationEntry entry : response.getChangedList()) {
            try {
                changed.add(EntryProtos.toSynced(entry, trustDomain));
            } catch (IllegalArgumentException e) {
                ignored.add(new EntryChanges.Ignored(entry.getId(), entry.getRevisionNumber(), e.getMessage(),
                        EntryProtos.isNodeAlias(entry, trustDomain)));
            }
        }
        List<FederatedBundleUpdate> bundles = new ArrayList<>();
        List<String> bundleFailures = new ArrayList<>();
        for (FederatedBundle message : response.getFederatedBundlesList()) {
            String td = message.getBundle().getTrustDomain();
            try {
                TrustDomain federated = TrustDomain.parse(td);
                if (federated.equals(trustDomain)) {
                    throw new IllegalArgumentException("it is the agent's own trust domain");
                }
                if (message.getDigest().isEmpty()) {
                    throw new IllegalArgumentException("it has no digest");
                }
                bundles.add(new FederatedBundleUpdate(AgentApiClient.bundle(federated, message.getBundle()),
                        HexFormat.of().formatHex(message.getDigest().toByteArray())));
            } catch (IllegalArgumentException | ServerCallException e) {
                bundleFailures.add("federated bundle of " + printable(td) + " refused: " + e.getMessage());
            }
        }
        List<TrustDomain> removedBundles = new ArrayList<>();
        for (String td : response.getRemovedFederatedBundlesList()) {
            try {
                removedBundles.add(TrustDomain.parse(td));
            } catch (IllegalArgumentException e) {
                // The agent never holds a bundle under a name that does not parse: nothing to remove.
            }
        }
        return new EntryChanges(changed, response.getRemovedIdsList(), ignored, bundles, removedBundles,
                bundleFailures);
    }

    /** A server-sent name as it may appear in a log line: bounded, without control characters. */
    private static String printable(String text) {
        String bounded = text.length() > 255 ? text.substring(0, 255) + "..." : text;
        return '"' + bounded.replaceAll("\\p{Cntrl}", "?") + '"';
    }

    @Override
    public List<SvidResult> newX509Svids(List<SvidRequest> requests) throws ServerCallException {
        BatchNewX509SVIDRequest.Builder batch = BatchNewX509SVIDRequest.newBuilder();
        for (SvidRequest r : requests) {
            batch.addParams(NewX509SVIDParams.newBuilder().setEntryId(r.entryId()).setCsr(ByteString.copyFrom(r.csr())));
        }
        BatchNewX509SVIDResponse response;
        try {
            response = SVIDGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .batchNewX509SVID(batch.build());
        } catch (StatusRuntimeException e) {
            throw ServerConnection.failure("BatchNewX509SVID", e);
        }
        if (response.getResultsCount() != requests.size()) {
            throw new ServerCallException(ServerCallException.Kind.REJECTED, "BatchNewX509SVID answered "
                    + response.getResultsCount() + " of " + requests.size() + " requests");
        }
        List<SvidResult> results = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            BatchNewX509SVIDResponse.Result result = response.getResults(i);
            String entryId = requests.get(i).entryId();
            if (result.hasStatus() && result.getStatus().getCode() != 0 || !result.hasSvid()) {
                results.add(SvidResult.refused(entryId, "code " + result.getStatus().getCode() + ": "
                        + result.getStatus().getMessage()));
                continue;
            }
            try {
                List<X509Certificate> chain = new ArrayList<>();
                for (ByteString der : result.getSvid().getCertChainList()) {
                    chain.addAll(AgentApiClient.certificates(der));
                }
                results.add(chain.isEmpty() ? SvidResult.refused(entryId, "empty certificate chain")
                        : SvidResult.issued(entryId, chain));
            } catch (CertificateException e) {
                results.add(SvidResult.refused(entryId, "unparsable certificate chain"));
            }
        }
        return results;
    }

    @Override
    public JwtToken newJwtSvid(String entryId, List<String> audience) throws ServerCallException {
        try {
            JWTSVID svid = SVIDGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .newJWTSVID(NewJWTSVIDRequest.newBuilder().setEntryId(entryId).addAllAudience(audience).build())
                    .getSvid();
            try {
                return new JwtToken(svid.getToken(), Instant.ofEpochSecond(svid.getIssuedAt()),
                        Instant.ofEpochSecond(svid.getExpiresAt()));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new ServerCallException(ServerCallException.Kind.REJECTED, "NewJWTSVID sent an invalid SVID");
            }
        } catch (StatusRuntimeException e) {
            throw ServerConnection.failure("NewJWTSVID", e);
        }
    }

    @Override
    public SpiffeBundle bundle() throws ServerCallException {
        return agentApi.bundle();
    }
}
