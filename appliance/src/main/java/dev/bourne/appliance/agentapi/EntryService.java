package dev.bourne.appliance.agentapi;

import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.EntryRevision;
import dev.bourne.api.v1.FederatedBundleRevision;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.protos.EntryProtos;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The agent API's {@code Entry} service: only {@code SyncAuthorizedEntries}; entry administration is admin-only. */
final class EntryService extends EntryGrpc.EntryImplBase {
    private final EntrySvids svids;

    EntryService(EntrySvids svids) {
        this.svids = Objects.requireNonNull(svids, "svids");
    }

    @Override
    public void syncAuthorizedEntries(SyncAuthorizedEntriesRequest request,
            StreamObserver<SyncAuthorizedEntriesResponse> responses) {
        try {
            CallerAgent caller = AgentAuthInterceptor.caller();
            if (request.getKnownCount() > EntrySvids.MAX_KNOWN_ENTRIES) {
                throw new ApiException(ApiException.Code.INVALID_ARGUMENT, EntrySvids.KNOWN_TOO_LARGE);
            }
            List<Map.Entry<String, Long>> pairs = new ArrayList<>();
            for (EntryRevision known : request.getKnownList()) {
                pairs.add(Map.entry(known.getId(), known.getRevisionNumber()));
            }
            EntrySvids.Sync sync = svids.sync(caller, EntrySvids.knownMap(pairs),
                    knownBundles(request.getKnownFederatedBundlesList()));
            SyncAuthorizedEntriesResponse.Builder response = SyncAuthorizedEntriesResponse.newBuilder()
                    .addAllRemovedIds(sync.removedIds());
            for (RegistrationEntry entry : sync.changed()) {
                response.addChanged(EntryProtos.toProto(entry));
            }
            for (AuthorizedBundles.Versioned bundle : sync.federatedBundles()) {
                response.addFederatedBundles(AgentApiProtos.federatedBundle(bundle));
            }
            for (TrustDomain removed : sync.removedFederatedBundles()) {
                response.addRemovedFederatedBundles(removed.name());
            }
            responses.onNext(response.build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "Entry/SyncAuthorizedEntries").asRuntimeException());
        }
    }

    /**
     * The federated bundles the agent says it holds, by trust domain; the first of a repeated domain counts. Checked
     * before anything is looked up: a bounded count, real trust domain names, digests of the right size.
     */
    private static Map<TrustDomain, String> knownBundles(List<FederatedBundleRevision> revisions)
            throws ApiException {
        if (revisions.size() > AuthorizedBundles.MAX_KNOWN_BUNDLES) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, AuthorizedBundles.KNOWN_BUNDLES_TOO_LARGE);
        }
        Map<TrustDomain, String> known = new HashMap<>();
        for (FederatedBundleRevision revision : revisions) {
            TrustDomain td;
            try {
                td = TrustDomain.parse(revision.getTrustDomain());
            } catch (IllegalArgumentException e) {
                throw new ApiException(ApiException.Code.INVALID_ARGUMENT,
                        AuthorizedBundles.KNOWN_BUNDLE_BAD_TRUST_DOMAIN);
            }
            if (revision.getDigest().size() != AuthorizedBundles.DIGEST_BYTES) {
                throw new ApiException(ApiException.Code.INVALID_ARGUMENT, AuthorizedBundles.KNOWN_BUNDLE_BAD_DIGEST);
            }
            known.putIfAbsent(td, HexFormat.of().formatHex(revision.getDigest().toByteArray()));
        }
        return known;
    }
}
