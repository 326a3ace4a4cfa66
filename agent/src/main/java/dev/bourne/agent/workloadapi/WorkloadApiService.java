package dev.bourne.agent.workloadapi;

import dev.bourne.agent.workloadapi.WorkloadApiProtos.MintedJwtSvid;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import dev.bourne.agent.workloadattestor.WorkloadProcess;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.InvalidSpiffeIdException;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.jwt.JwtSvid;
import dev.bourne.core.svid.jwt.JwtSvidException;
import dev.bourne.core.svid.jwt.JwtSvidValidator;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import dev.bourne.workload.v1.JWTBundlesRequest;
import dev.bourne.workload.v1.JWTBundlesResponse;
import dev.bourne.workload.v1.JWTSVIDRequest;
import dev.bourne.workload.v1.JWTSVIDResponse;
import dev.bourne.workload.v1.SpiffeWorkloadAPIGrpc;
import dev.bourne.workload.v1.ValidateJWTSVIDRequest;
import dev.bourne.workload.v1.ValidateJWTSVIDResponse;
import dev.bourne.workload.v1.X509BundlesRequest;
import dev.bourne.workload.v1.X509BundlesResponse;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.Provider;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPIFFE Workload API ({@code workload.proto}): a thin adapter that attests the caller, asks
 * {@link WorkloadIdentities} for what it may have, and answers with the status codes of the spec.
 *
 * <p>Every call is attested on its own (for streams, once when the stream opens): identity comes from the kernel's
 * view of the calling process, never from anything in the request. Streams send the workload's full current set at
 * once and again on every change of it, until the client goes away or its identity disappears (then
 * PERMISSION_DENIED ends the stream, as in the spec).
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Workload_API.md">SPIFFE Workload API</a>
 */
public final class WorkloadApiService extends SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadApiService.class);

    /** Clock skew tolerated when validating JWT-SVIDs for workloads. */
    public static final Duration JWT_SKEW = Duration.ofSeconds(30);

    static final String AUDIENCE_REQUIRED = "audience must be specified";
    static final String SVID_REQUIRED = "svid must be specified";
    static final String NO_IDENTITY_ISSUED = "no identity issued";
    static final String NOT_READY = "agent is not ready";
    static final String ATTESTATION_FAILED = "workload attestation failed";
    static final String MINT_FAILED = "could not fetch JWT-SVID";
    static final String BAD_SPIFFE_ID = "requested SPIFFE ID is not valid";

    private final WorkloadIdentities identities;
    private final WorkloadAttestorCatalog attestors;
    private final Clock clock;
    private final Provider provider;
    private final boolean allowUnauthenticatedVerifiers;

    /**
     * @param identities what workloads may receive
     * @param attestors the enabled workload attestors
     * @param clock the time JWT-SVIDs are validated against
     * @param provider the JCA provider that verifies JWT signatures (BouncyCastle's is fastest), or null for the JDK's
     * @param allowUnauthenticatedVerifiers {@code allow_unauthenticated_verifiers}: let callers without an identity
     *        fetch bundles and validate JWT-SVIDs (SPIRE's option, off by default)
     */
    public WorkloadApiService(WorkloadIdentities identities, WorkloadAttestorCatalog attestors, Clock clock,
            Provider provider, boolean allowUnauthenticatedVerifiers) {
        this.identities = Objects.requireNonNull(identities, "identities");
        this.attestors = Objects.requireNonNull(attestors, "attestors");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.provider = provider;
        this.allowUnauthenticatedVerifiers = allowUnauthenticatedVerifiers;
    }

    @Override
    public void fetchX509SVID(X509SVIDRequest request, StreamObserver<X509SVIDResponse> response) {
        stream(response, false, WorkloadApiProtos::x509SvidResponse);
    }

    @Override
    public void fetchX509Bundles(X509BundlesRequest request, StreamObserver<X509BundlesResponse> response) {
        stream(response, allowUnauthenticatedVerifiers, WorkloadApiProtos::x509BundlesResponse);
    }

    @Override
    public void fetchJWTBundles(JWTBundlesRequest request, StreamObserver<JWTBundlesResponse> response) {
        stream(response, allowUnauthenticatedVerifiers, WorkloadApiProtos::jwtBundlesResponse);
    }

    @Override
    public void fetchJWTSVID(JWTSVIDRequest request, StreamObserver<JWTSVIDResponse> response) {
        try {
            if (request.getAudienceCount() == 0 || request.getAudienceList().stream().anyMatch(String::isEmpty)) {
                throw new Refused(Refusal.BAD_REQUEST, AUDIENCE_REQUIRED);
            }
            Optional<SpiffeId> wanted = Optional.empty();
            if (!request.getSpiffeId().isEmpty()) {
                try {
                    wanted = Optional.of(SpiffeId.parse(request.getSpiffeId()));
                } catch (InvalidSpiffeIdException e) {
                    throw new Refused(Refusal.BAD_REQUEST, BAD_SPIFFE_ID);
                }
            }
            WorkloadIdentity identity = identityOf(attest());
            if (!identity.hasIdentity()) {
                throw new Refused(Refusal.NO_IDENTITY, NO_IDENTITY_ISSUED);
            }
            // One token per distinct SPIFFE ID the workload holds, under the hint of its first entry.
            Map<SpiffeId, String> ids = new LinkedHashMap<>();
            for (WorkloadX509Svid svid : identity.svids()) {
                ids.putIfAbsent(svid.spiffeId(), svid.hint());
            }
            if (wanted.isPresent()) {
                if (!ids.containsKey(wanted.get())) {
                    throw new Refused(Refusal.NO_IDENTITY, "no identity issued for " + wanted.get());
                }
                ids.keySet().retainAll(List.of(wanted.get()));
            }
            List<MintedJwtSvid> minted = new ArrayList<>();
            for (Map.Entry<SpiffeId, String> id : ids.entrySet()) {
                try {
                    String token = identities.mintJwtSvid(id.getKey(), request.getAudienceList());
                    minted.add(new MintedJwtSvid(id.getKey().toString(), token, id.getValue()));
                } catch (JwtSvidMintException e) {
                    throw new Refused(Refusal.MINT_FAILED, MINT_FAILED, e);
                }
            }
            response.onNext(WorkloadApiProtos.jwtSvidResponse(minted));
            response.onCompleted();
        } catch (Refused refused) {
            response.onError(status(refused));
        }
    }

    @Override
    public void validateJWTSVID(ValidateJWTSVIDRequest request, StreamObserver<ValidateJWTSVIDResponse> response) {
        try {
            if (request.getAudience().isEmpty()) {
                throw new Refused(Refusal.BAD_REQUEST, AUDIENCE_REQUIRED);
            }
            if (request.getSvid().isEmpty()) {
                throw new Refused(Refusal.BAD_REQUEST, SVID_REQUIRED);
            }
            WorkloadIdentity identity = identityOf(attest());
            if (!identity.hasIdentity() && !allowUnauthenticatedVerifiers) {
                throw new Refused(Refusal.NO_IDENTITY, NO_IDENTITY_ISSUED);
            }
            // Only the caller's own bundles: the agent's trust domain and the domains its entries federate with
            // (SPIRE does the same). A token of a domain the caller was not given a bundle for is refused, as its
            // own validation with the bundles from FetchJWTBundles would refuse it.
            BundleSource bundles = BundleSource.of(identity.allBundles());
            JwtSvid svid;
            try {
                svid = new JwtSvidValidator(bundles, clock, JWT_SKEW, provider)
                        .validate(request.getSvid(), request.getAudience());
            } catch (JwtSvidException e) {
                // The reason is about the token the caller sent; it reveals nothing about the agent.
                throw new Refused(Refusal.BAD_REQUEST, e.getMessage());
            }
            response.onNext(WorkloadApiProtos.validateResponse(svid));
            response.onCompleted();
        } catch (Refused refused) {
            response.onError(status(refused));
        }
    }

    private <T> void stream(StreamObserver<T> response, boolean withoutIdentity,
            Function<WorkloadIdentity, T> convert) {
        ServerCallStreamObserver<T> call = (ServerCallStreamObserver<T>) response;
        List<Selector> selectors;
        try {
            selectors = attest();
        } catch (Refused refused) {
            call.onError(status(refused));
            return;
        }
        StreamState state = new StreamState();
        // The cancel handler must be set before the first message; the watch it closes is created just after.
        call.setOnCancelHandler(state::close);
        WorkloadIdentities.Watch watch = identities.watch(selectors, update -> {
            synchronized (state) {
                if (state.finished) {
                    return;
                }
                if (update.isEmpty()) {
                    state.finished = true;
                    call.onError(status(new Refused(Refusal.NOT_READY, NOT_READY)));
                } else if (!update.get().hasIdentity() && !withoutIdentity) {
                    state.finished = true;
                    call.onError(status(new Refused(Refusal.NO_IDENTITY, NO_IDENTITY_ISSUED)));
                } else {
                    call.onNext(convert.apply(update.get()));
                }
            }
        });
        state.attach(watch);
    }

    /** One stream's lifecycle: finished after an error or cancel; the watch closes whichever comes first. */
    private static final class StreamState {
        private boolean finished;
        private WorkloadIdentities.Watch watch;
        private boolean closed;

        synchronized void attach(WorkloadIdentities.Watch newWatch) {
            watch = newWatch;
            if (closed || finished) {
                newWatch.close();
            }
        }

        synchronized void close() {
            finished = true;
            closed = true;
            if (watch != null) {
                watch.close();
            }
        }
    }

    private List<Selector> attest() throws Refused {
        WorkloadProcess caller = CallerInterceptor.CALLER.get();
        if (caller == null) {
            throw new Refused(Refusal.ATTESTATION_FAILED, ATTESTATION_FAILED);
        }
        try {
            return attestors.attest(caller);
        } catch (WorkloadAttestationException e) {
            throw new Refused(Refusal.ATTESTATION_FAILED, ATTESTATION_FAILED, e);
        }
    }

    private WorkloadIdentity identityOf(List<Selector> selectors) throws Refused {
        return identities.identityFor(selectors).orElseThrow(() -> new Refused(Refusal.NOT_READY, NOT_READY));
    }

    /** The one mapping from refusals to gRPC status; internal causes are logged under a reference, never sent. */
    private static StatusRuntimeException status(Refused refused) {
        Status status = switch (refused.kind) {
            case BAD_REQUEST -> Status.INVALID_ARGUMENT;
            case NO_IDENTITY -> Status.PERMISSION_DENIED;
            case NOT_READY, ATTESTATION_FAILED, MINT_FAILED -> Status.UNAVAILABLE;
        };
        String description = refused.publicMessage;
        if (refused.getCause() != null) {
            String reference = String.format("%08x", ThreadLocalRandom.current().nextInt());
            LOG.warn("Workload API call refused ({}), ref {}: {}", refused.kind, reference,
                    refused.getCause().getMessage());
            description = description + " (ref " + reference + ")";
        }
        return status.withDescription(description).asRuntimeException();
    }

    /** A refusal on its way to {@link #status}. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        private final Refusal kind;
        private final String publicMessage;

        Refused(Refusal kind, String publicMessage) {
            this(kind, publicMessage, null);
        }

        Refused(Refusal kind, String publicMessage, Throwable cause) {
            super(publicMessage, cause, false, false);
            this.kind = kind;
            this.publicMessage = publicMessage;
        }
    }
}
