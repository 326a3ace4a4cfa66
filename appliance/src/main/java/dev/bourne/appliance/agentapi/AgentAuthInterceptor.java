package dev.bourne.appliance.agentapi;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authenticates every agent API call except the few open to unattested agents, and puts the {@link CallerAgent} in the
 * gRPC {@link Context} under {@link #CALLER}. A refused call is closed here, before any service code runs.
 */
public final class AgentAuthInterceptor implements ServerInterceptor {
    /** The authenticated agent of the current call. */
    public static final Context.Key<CallerAgent> CALLER = Context.key("bourne-caller-agent");

    /**
     * Methods an agent without an SVID may call: attestation (how it gets one) and the bundle (public data it needs
     * to verify the server; SPIRE serves it unauthenticated too).
     */
    static final Set<String> OPEN_METHODS = Set.of("bourne.api.v1.Agent/AttestAgent", "bourne.api.v1.Bundle/GetBundle");

    private final AgentAuthenticator authenticator;

    public AgentAuthInterceptor(AgentAuthenticator authenticator) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (OPEN_METHODS.contains(method)) {
            return next.startCall(call, headers);
        }
        CallerAgent caller;
        try {
            caller = authenticator.authenticate(peerChain(call));
        } catch (Exception e) {
            call.close(ApiErrors.toStatus(e, method), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
    }

    /** The client's certificate chain, leaf first; empty when the client sent none. */
    static List<X509Certificate> peerChain(ServerCall<?, ?> call) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        List<X509Certificate> chain = new ArrayList<>();
        if (session == null) {
            return chain;
        }
        try {
            for (Certificate certificate : session.getPeerCertificates()) {
                if (certificate instanceof X509Certificate x509) {
                    chain.add(x509);
                }
            }
        } catch (SSLPeerUnverifiedException e) {
            chain.clear();
        }
        return chain;
    }

    /** The caller of the current call; services run only behind this interceptor, so it is always set. */
    static CallerAgent caller() {
        CallerAgent caller = CALLER.get();
        if (caller == null) {
            throw Status.INTERNAL.withDescription("no authenticated caller").asRuntimeException();
        }
        return caller;
    }
}
