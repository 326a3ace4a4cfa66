package dev.bourne.appliance.agentapi;

import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.ca.CaManager;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * The agent API's {@code Bundle} service: {@code GetBundle}, the trust domain's current bundle. Open to callers
 * without an SVID: the bundle is public, and an agent needs it before it can verify anything.
 */
final class BundleService extends BundleGrpc.BundleImplBase {
    private final CaManager ca;

    BundleService(CaManager ca) {
        this.ca = Objects.requireNonNull(ca, "ca");
    }

    @Override
    public void getBundle(GetBundleRequest request, StreamObserver<TrustBundle> responses) {
        try {
            responses.onNext(AgentApiProtos.bundle(ca.snapshot()));
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(ApiErrors.toStatus(e, "Bundle/GetBundle").asRuntimeException());
        }
    }
}
