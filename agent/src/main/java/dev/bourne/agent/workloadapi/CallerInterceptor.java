package dev.bourne.agent.workloadapi;

import dev.bourne.agent.workloadattestor.WorkloadProcess;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Admits Workload API calls: the SPIFFE security header must be present and {@code true}, else INVALID_ARGUMENT
 * (Workload API spec, "Client Authentication": it proves the request came from a SPIFFE client library and not
 * from a browser or a server-side request forgery); the caller's {@link WorkloadProcess}, set per connection by
 * {@link PeerCredentialsNegotiator}, then goes into the call's {@code Context} under {@link #CALLER}.
 */
final class CallerInterceptor implements ServerInterceptor {
    static final Context.Key<WorkloadProcess> CALLER = Context.key("bourne.workload-caller");
    static final Metadata.Key<String> SECURITY_HEADER =
            Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    static final String MISSING_HEADER = "security header missing from request";
    static final String NO_CALLER = "caller could not be identified";

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        Iterable<String> values = headers.getAll(SECURITY_HEADER);
        boolean present = false;
        boolean allTrue = true;
        if (values != null) {
            for (String value : values) {
                present = true;
                allTrue &= "true".equals(value);
            }
        }
        if (!present || !allTrue) {
            call.close(Status.INVALID_ARGUMENT.withDescription(MISSING_HEADER), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        WorkloadProcess caller = call.getAttributes().get(PeerCredentialsNegotiator.CALLER);
        if (caller == null) {
            call.close(Status.UNAVAILABLE.withDescription(NO_CALLER), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
    }
}
