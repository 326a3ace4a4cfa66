package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AgentX509SVIDParams;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.AttestationData;
import dev.bourne.appliance.agentapi.AgentApiServer;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.agentapi.AgentAuthenticator;
import dev.bourne.appliance.agentapi.AuditLog;
import dev.bourne.appliance.agentapi.AuthorizedEntries;
import dev.bourne.appliance.agentapi.EntrySvids;
import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.ChallengeChannel;
import dev.bourne.appliance.attestation.NodeAttestation;
import dev.bourne.appliance.attestation.NodeAttestor;
import dev.bourne.appliance.attestation.NodeAttestors;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AttestAgent challenge/response conversation, with a re-attestable attestor that challenges: the agent must
 * return the nonce reversed. Runs a second agent API listener over a real server's datastore and CA.
 */
class ChallengeAttestationTest {
    private static final String NAME = "reverse_nonce";

    /** Challenges with a fresh 32-byte nonce; the answer is the nonce reversed. */
    private static final class ReverseNonceAttestor implements NodeAttestor {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException {
            byte[] nonce = new byte[32];
            new SecureRandom().nextBytes(nonce);
            byte[] answer = challenges.challenge(nonce);
            byte[] expected = new byte[nonce.length];
            for (int i = 0; i < nonce.length; i++) {
                expected[i] = nonce[nonce.length - 1 - i];
            }
            if (!java.security.MessageDigest.isEqual(expected, answer)) {
                throw new AttestationException(AttestationException.Reason.REJECTED, "wrong answer");
            }
            String host = new String(payload, StandardCharsets.UTF_8);
            return new NodeAttestation(SpiffeId.of(TrustDomain.parse("example.org"), "spire", "agent", NAME, host),
                    List.of("host:" + host), true, "nonce answered");
        }
    }

    @TempDir
    Path dir;

    private BourneServer server;
    private AgentApiServer api;
    private AgentClient client;
    private io.grpc.Channel channel;

    @BeforeEach
    void start() throws Exception {
        server = BourneServer.start(TestServers.sqliteMemory(dir), Clock.systemUTC());
        CaManager ca = server.ca().orElseThrow();
        TrustDomain td = TrustDomain.parse("example.org");
        NodeAttestors attestors = new NodeAttestors(td, List.of(new ReverseNonceAttestor()));
        X509SvidIssuer issuer = new X509SvidIssuer(td, Clock.systemUTC(), new SecureRandom());
        AuditLog audit = new AuditLog(true, attestors::loggable);
        api = AgentApiServer.start("127.0.0.1", 0, server.serverSvid(),
                new AgentAttestation(attestors, server.dataStore(), ca, issuer, Duration.ofHours(1), audit,
                        server.metrics()),
                new EntrySvids(server.dataStore(), new AuthorizedEntries(server.dataStore(), td), ca, issuer,
                        new JwtSvidIssuer(td, Clock.systemUTC()), Duration.ofHours(1), Duration.ofMinutes(5),
                        Optional.empty(), audit, server.metrics()),
                new AgentAuthenticator(ca, server.dataStore(), Clock.systemUTC()), ca, server.metrics(),
                Clock.systemUTC(), Executors.newFixedThreadPool(2));
        client = AgentClient.connect(api.port(), ca.bundle());
        channel = client.channel();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        api.close();
        server.close();
    }

    /** Runs one conversation; {@code answer} maps the challenge to the agent's reply (null: send params again). */
    private AttestAgentResponse.Result converse(String host, java.util.function.UnaryOperator<byte[]> answer)
            throws Exception {
        BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        StreamObserver<AttestAgentRequest> requests = AgentGrpc.newStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).attestAgent(new StreamObserver<>() {
                    @Override
                    public void onNext(AttestAgentResponse value) {
                        events.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        events.add(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        AttestAgentRequest params = AttestAgentRequest.newBuilder().setParams(AttestAgentRequest.Params.newBuilder()
                .setData(AttestationData.newBuilder().setType(NAME).setPayload(ByteString.copyFromUtf8(host)))
                .setParams(AgentX509SVIDParams.newBuilder().setCsr(ByteString.copyFrom(
                        AgentClient.csr(TestKeys.freshEcP256()))))).build();
        requests.onNext(params);
        while (true) {
            Object event = events.poll(30, TimeUnit.SECONDS);
            if (event instanceof StatusRuntimeException e) {
                throw e;
            }
            AttestAgentResponse response = (AttestAgentResponse) event;
            if (response.hasResult()) {
                requests.onCompleted();
                return response.getResult();
            }
            byte[] reply = answer.apply(response.getChallenge().toByteArray());
            requests.onNext(reply == null ? params : AttestAgentRequest.newBuilder()
                    .setChallengeResponse(ByteString.copyFrom(reply)).build());
        }
    }

    private static byte[] reversed(byte[] nonce) {
        byte[] out = new byte[nonce.length];
        for (int i = 0; i < nonce.length; i++) {
            out[i] = nonce[nonce.length - 1 - i];
        }
        return out;
    }

    @Test
    void rightAnswer_attested_andReattestationReplacesTheNode() throws Exception {
        AttestAgentResponse.Result first = converse("n1", ChallengeAttestationTest::reversed);
        assertTrue(first.getReattestable());
        SpiffeId id = SpiffeId.parse("spiffe://example.org/spire/agent/reverse_nonce/n1");
        assertEquals(id.toString(), first.getSvid().getId());
        AttestedNode node = server.dataStore().getNode(id).orElseThrow();
        assertEquals(List.of(new Selector(NAME, "host:n1")), node.selectors());

        AttestAgentResponse.Result second = converse("n1", ChallengeAttestationTest::reversed);
        String serial = AgentClient.chain(second.getSvid()).get(0).getSerialNumber().toString();
        assertEquals(serial, server.dataStore().getNode(id).orElseThrow().certificate().orElseThrow()
                .serialNumber());
    }

    @Test
    void wrongAnswer_permissionDenied() throws Exception {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> converse("n2", nonce -> nonce));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertEquals("wrong answer", e.getStatus().getDescription());
        assertTrue(server.dataStore().getNode(SpiffeId.parse("spiffe://example.org/spire/agent/reverse_nonce/n2"))
                .isEmpty());
    }

    @Test
    void paramsInsteadOfAnswer_invalidArgument() {
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> converse("n3", nonce -> null));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("unexpected AttestAgent message: no challenge is pending", e.getStatus().getDescription());
    }

    @Test
    void bannedReattestableNode_refused() throws Exception {
        converse("n4", ChallengeAttestationTest::reversed);
        server.dataStore().banNode(SpiffeId.parse("spiffe://example.org/spire/agent/reverse_nonce/n4"));
        StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> converse("n4", ChallengeAttestationTest::reversed));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertEquals(AgentAttestation.BANNED, e.getStatus().getDescription());
    }
}
