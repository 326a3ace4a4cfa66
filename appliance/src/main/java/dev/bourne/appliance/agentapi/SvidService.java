package dev.bourne.appliance.agentapi;

import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.NewJWTSVIDRequest;
import dev.bourne.api.v1.NewJWTSVIDResponse;
import dev.bourne.api.v1.NewX509SVIDParams;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.appliance.ca.IssuedX509Svid;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The agent API's {@code SVID} service: {@code BatchNewX509SVID} (a result with its own status per request) and
 * {@code NewJWTSVID}. The admin mint RPCs are not served here.
 */
final class SvidService extends SVIDGrpc.SVIDImplBase {
    private final EntrySvids svids;

    SvidService(EntrySvids svids) {
        this.svids = Objects.requireNonNull(svids, "svids");
    }

    @Override
    public void batchNewX509SVID(BatchNewX509SVIDRequest request,
            StreamObserver<BatchNewX509SVIDResponse> responses) {
        try {
            CallerAgent caller = AgentAuthInterceptor.caller();
            List<EntrySvids.X509Request> requests = new ArrayList<>();
            for (NewX509SVIDParams params : request.getParamsList()) {
                requests.add(new EntrySvids.X509Request(params.getEntryId(), params.getCsr().toByteArray()));
            }
            BatchNewX509SVIDResponse.Builder response = BatchNewX509SVIDResponse.newBuilder();
            for (EntrySvids.Outcome<IssuedX509Svid> outcome : svids.newX509Svids(caller, requests)) {
                BatchNewX509SVIDResponse.Result.Builder result = BatchNewX509SVIDResponse.Result.newBuilder();
                if (outcome.svid().isPresent()) {
                    result.setStatus(status(Status.OK)).setSvid(AgentApiProtos.x509Svid(outcome.svid().get()));
                } else {
                    result.setStatus(status(ApiErrors.toStatus(outcome.failure().orElseThrow(),
                            "SVID/BatchNewX509SVID")));
                }
                response.addResults(result);
            }
            responses.onNext(response.build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "SVID/BatchNewX509SVID").asRuntimeException());
        }
    }

    @Override
    public void newJWTSVID(NewJWTSVIDRequest request, StreamObserver<NewJWTSVIDResponse> responses) {
        try {
            CallerAgent caller = AgentAuthInterceptor.caller();
            responses.onNext(NewJWTSVIDResponse.newBuilder().setSvid(AgentApiProtos.jwtSvid(
                    svids.newJwtSvid(caller, request.getEntryId(), request.getAudienceList()))).build());
            responses.onCompleted();
        } catch (Exception e) {
            responses.onError(ApiErrors.toStatus(e, "SVID/NewJWTSVID").asRuntimeException());
        }
    }

    private static dev.bourne.api.v1.Status status(Status status) {
        return dev.bourne.api.v1.Status.newBuilder().setCode(status.getCode().value())
                .setMessage(Objects.requireNonNullElse(status.getDescription(), "")).build();
    }
}
