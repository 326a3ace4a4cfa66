package dev.bourne.agent.node;

import com.google.protobuf.ByteString;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AgentX509SVIDParams;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.AttestationData;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.JWTKey;
import dev.bourne.api.v1.NewRenewalChallengeRequest;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.RenewAgentResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.api.v1.X509SVID;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The agent's calls about itself: node attestation (the AttestAgent stream with any number of challenge rounds),
 * agent SVID renewal over mTLS (with continuous attestation: NewRenewalChallenge, then RenewAgent carrying the node
 * attestor's evidence), and the trust domain bundle.
 */
public final class AgentApiClient {
    /** Most challenge rounds accepted before the agent gives up on a server that never finishes. */
    public static final int MAX_CHALLENGES = 16;
    public static final String TOO_MANY_CHALLENGES = "the server sent more than " + MAX_CHALLENGES + " challenges";
    public static final String NO_RESULT = "the server closed the attestation stream without a result";
    /** Renewal challenges are nonces and PCR selections; the server never sends more (NodeAttestors bounds it too). */
    public static final int MAX_RENEWAL_CHALLENGE_BYTES = 64 * 1024;
    public static final String CHALLENGE_TOO_LARGE = "the server's renewal challenge is larger than "
            + MAX_RENEWAL_CHALLENGE_BYTES + " bytes";
    public static final String RENEWAL_REFUSED = "agent SVID renewal refused by continuous attestation";
    public static final String NO_EVIDENCE = "the server asks for renewal evidence but the node attestor %s gives none";
    public static final String NO_ATTESTOR = "the server asks for renewal evidence but no node attestor is configured";

    private final ServerConnection connection;
    private final TrustDomain trustDomain;
    private final WorkloadKeyGenerator keys;

    public AgentApiClient(ServerConnection connection, TrustDomain trustDomain, WorkloadKeyGenerator keys) {
        this.connection = connection;
        this.trustDomain = trustDomain;
        this.keys = keys;
    }

    /** Attests this node with {@code attestor} and returns the agent SVID for a fresh key. */
    public AgentSvid attest(NodeAttestor attestor) throws ServerCallException, NodeAttestationException {
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        StreamObserver<AttestAgentRequest> requests = AgentGrpc.newStub(connection.channel())
                .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS)
                .attestAgent(new StreamObserver<>() {
                    @Override
                    public void onNext(AttestAgentResponse value) {
                        inbox.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        inbox.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        inbox.add(NO_RESULT);
                    }
                });
        try {
            requests.onNext(AttestAgentRequest.newBuilder().setParams(AttestAgentRequest.Params.newBuilder()
                    .setData(AttestationData.newBuilder().setType(attestor.name())
                            .setPayload(ByteString.copyFrom(attestor.payload())))
                    .setParams(AgentX509SVIDParams.newBuilder()
                            .setCsr(ByteString.copyFrom(Csrs.create(key.publicKey(), key.privateKey())))))
                    .build());
            for (int round = 0; ; round++) {
                Object next = inbox.poll(ServerConnection.CALL_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
                if (next instanceof StatusRuntimeException e) {
                    ServerCallException failure = ServerConnection.failure("node attestation", e);
                    if (failure.kind() == ServerCallException.Kind.UNAVAILABLE) {
                        throw failure;
                    }
                    throw new NodeAttestationException("the server refused node attestation: "
                            + failure.getMessage(), failure);
                }
                if (next instanceof Throwable t) {
                    throw new ServerCallException(ServerCallException.Kind.UNAVAILABLE,
                            "node attestation failed: " + t.getMessage(), t);
                }
                if (next == null || next instanceof String) {
                    throw new ServerCallException(ServerCallException.Kind.UNAVAILABLE, NO_RESULT);
                }
                AttestAgentResponse response = (AttestAgentResponse) next;
                if (response.hasResult()) {
                    requests.onCompleted();
                    return svid(response.getResult().getSvid(), key);
                }
                if (round >= MAX_CHALLENGES) {
                    throw new NodeAttestationException(TOO_MANY_CHALLENGES);
                }
                byte[] answer = attestor.answer(response.getChallenge().toByteArray());
                requests.onNext(AttestAgentRequest.newBuilder().setChallengeResponse(ByteString.copyFrom(answer))
                        .build());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServerCallException(ServerCallException.Kind.UNAVAILABLE, "node attestation interrupted", e);
        } catch (NodeAttestationException | ServerCallException | RuntimeException e) {
            requests.onError(io.grpc.Status.CANCELLED.withDescription("agent gave up").asRuntimeException());
            throw e;
        }
    }

    /** {@link #renew(Optional)} without a node attestor: only for servers that ask no renewal evidence. */
    public AgentSvid renew() throws ServerCallException, NodeAttestationException {
        return renew(Optional.empty());
    }

    /**
     * A new agent SVID for a fresh key, over mTLS with the current one. First asks the server for a renewal
     * challenge; when it sends one, {@code attestor} answers it and the evidence goes with the renewal.
     *
     * @throws ServerCallException {@link ServerCallException.Kind#ATTESTATION_REFUSED} when continuous attestation
     *     refused the renewal; the other kinds as for any call
     * @throws NodeAttestationException when the attestor cannot produce the evidence
     */
    public AgentSvid renew(Optional<NodeAttestor> attestor) throws ServerCallException, NodeAttestationException {
        byte[] challenge = renewalChallenge();
        byte[] evidence = new byte[0];
        String missing = "";
        if (challenge.length > 0) {
            Optional<byte[]> answer = attestor.isPresent() ? attestor.get().renewalEvidence(challenge)
                    : Optional.empty();
            if (answer.isPresent()) {
                evidence = answer.get();
            } else {
                // Sent all the same: the server refuses it and its audit log records that this agent had none.
                missing = attestor.isPresent() ? String.format(NO_EVIDENCE, attestor.get().name()) : NO_ATTESTOR;
            }
        }
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        try {
            RenewAgentResponse response = AgentGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .renewAgent(RenewAgentRequest.newBuilder().setParams(AgentX509SVIDParams.newBuilder()
                            .setCsr(ByteString.copyFrom(Csrs.create(key.publicKey(), key.privateKey()))))
                            .setAttestationEvidence(ByteString.copyFrom(evidence)).build());
            return svid(response.getSvid(), key);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                throw refused(e, missing);
            }
            throw ServerConnection.failure("agent SVID renewal", e);
        }
    }

    /**
     * The server's renewal challenge for this agent; empty when its node attestor has no continuous attestation, or
     * the server predates NewRenewalChallenge (UNIMPLEMENTED: it asks no evidence either).
     */
    byte[] renewalChallenge() throws ServerCallException {
        try {
            byte[] challenge = AgentGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .newRenewalChallenge(NewRenewalChallengeRequest.getDefaultInstance()).getChallenge().toByteArray();
            if (challenge.length > MAX_RENEWAL_CHALLENGE_BYTES) {
                throw new ServerCallException(ServerCallException.Kind.REJECTED, CHALLENGE_TOO_LARGE);
            }
            return challenge;
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNIMPLEMENTED) {
                return new byte[0];
            }
            if (code == Status.Code.FAILED_PRECONDITION) {
                throw refused(e, "");
            }
            throw ServerConnection.failure("NewRenewalChallenge", e);
        }
    }

    private static ServerCallException refused(StatusRuntimeException e, String missing) {
        String detail = e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription();
        return new ServerCallException(ServerCallException.Kind.ATTESTATION_REFUSED, RENEWAL_REFUSED
                + (detail.isEmpty() ? "" : ": " + detail) + (missing.isEmpty() ? "" : " (" + missing + ")"), e);
    }

    /** The trust domain's current bundle. */
    public SpiffeBundle bundle() throws ServerCallException {
        try {
            TrustBundle bundle = BundleGrpc.newBlockingStub(connection.channel())
                    .withDeadlineAfter(ServerConnection.CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .getBundle(GetBundleRequest.getDefaultInstance());
            return bundle(trustDomain, bundle);
        } catch (StatusRuntimeException e) {
            throw ServerConnection.failure("GetBundle", e);
        }
    }

    /** Converts a TrustBundle message; {@code expected} is the domain it must be for. */
    public static SpiffeBundle bundle(TrustDomain expected, TrustBundle message) throws ServerCallException {
        try {
            TrustDomain td = TrustDomain.parse(message.getTrustDomain());
            if (!td.equals(expected)) {
                throw new ServerCallException(ServerCallException.Kind.REJECTED, "the server sent the bundle of "
                        + td + ", expected " + expected);
            }
            List<X509Certificate> authorities = new ArrayList<>();
            for (ByteString der : message.getX509AuthoritiesList()) {
                authorities.addAll(certificates(der));
            }
            Map<String, PublicKey> jwt = new LinkedHashMap<>();
            for (JWTKey key : message.getJwtAuthoritiesList()) {
                jwt.put(key.getKeyId(), publicKey(key.getPublicKey().toByteArray()));
            }
            return new SpiffeBundle(td, authorities, jwt, message.getSequenceNumber() > 0
                    ? OptionalLong.of(message.getSequenceNumber()) : OptionalLong.empty(),
                    message.getRefreshHint() > 0 ? Optional.of(Duration.ofSeconds(message.getRefreshHint()))
                            : Optional.empty());
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new ServerCallException(ServerCallException.Kind.REJECTED, "the server sent an invalid bundle: "
                    + e.getMessage(), e);
        }
    }

    private static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(spki);
        for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("a JWT authority is not an EC, RSA or Ed25519 public key");
    }

    /** Parses DER certificates (one or several concatenated). */
    public static List<X509Certificate> certificates(ByteString der) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        for (var cert : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(der.toByteArray()))) {
            out.add((X509Certificate) cert);
        }
        return out;
    }

    private AgentSvid svid(X509SVID message, WorkloadKeyGenerator.GeneratedKey key) throws ServerCallException {
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (ByteString der : message.getCertChainList()) {
                chain.addAll(certificates(der));
            }
            AgentSvid svid = new AgentSvid(chain, key.privateKey());
            if (!svid.leaf().getPublicKey().equals(key.publicKey())) {
                throw new ServerCallException(ServerCallException.Kind.REJECTED,
                        "the agent SVID is not for the key the agent sent");
            }
            if (!svid.spiffeId().memberOf(trustDomain) || !svid.spiffeId().hasPathPrefix("spire", "agent")) {
                throw new ServerCallException(ServerCallException.Kind.REJECTED, "the server issued "
                        + svid.spiffeId() + ", not an agent ID of " + trustDomain);
            }
            return svid;
        } catch (CertificateException | X509SvidException e) {
            throw new ServerCallException(ServerCallException.Kind.REJECTED, "the server sent an invalid agent SVID: "
                    + e.getMessage(), e);
        }
    }
}
