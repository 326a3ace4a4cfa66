package dev.bourne.appliance.agentapi;

import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.EntryRevision;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.protos.EntryProtos;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
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
            EntrySvids.Sync sync = svids.sync(caller, EntrySvids.knownMap(pairs));
            SyncAuthorizedEntriesResponse.Builder response = SyncAuthorizedEntriesResponse.newBuilder()
                    .addAllRemovedIds(sync.removedIds());
            for (RegistrationEntry entry : sync.changed()) {
                response.addChanged(EntryProtos.toProto(entry));
            }
            responses.onNext(response.build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "Entry/SyncAuthorizedEntries").asRuntimeException());
        }
    }
}
