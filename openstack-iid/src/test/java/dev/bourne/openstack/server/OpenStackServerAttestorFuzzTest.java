package dev.bourne.openstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Hostile bytes into the server engine: whatever the agent sends as its attestation payload, only
 * {@link IidAttestationException} may come out (never a parser's IllegalArgumentException, ClassCastException or
 * NullPointerException, nor an Error). A Jazzer fuzz target, whose committed seeds in
 * {@code src/test/resources/dev/bourne/openstack/server/OpenStackServerAttestorFuzzTestInputs/attest/} are replayed in
 * every build (to fuzz: {@code JAZZER_FUZZ=1}), plus deterministic sweeps over every truncation and single-byte change
 * of well-formed documents signed with EC and RSA keys.
 */
class OpenStackServerAttestorFuzzTest {

    /** The instant the committed seeds were signed at (their iat), so the valid seed still verifies. */
    static final Instant SEEDS_SIGNED_AT = Instant.parse("2026-06-01T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(SEEDS_SIGNED_AT, ZoneOffset.UTC);
    private static final OpenStackServerAttestor ATTESTOR;

    static {
        try {
            Path dir = Files.createTempDirectory("iid-fuzz");
            dir.toFile().deleteOnExit();
            Path jwks = IidTestSupport.writeJwks(dir, IidTestSupport.standardJwks());
            jwks.toFile().deleteOnExit();
            OpenStackServerSettings settings = IidTestSupport.settings(jwks, true);
            IidTestSupport.FakeNova nova = new IidTestSupport.FakeNova();
            nova.servers.put(IidTestSupport.INSTANCE, new NovaServers.NovaServer(IidTestSupport.INSTANCE, "ACTIVE",
                    IidTestSupport.PROJECT));
            ATTESTOR = new OpenStackServerAttestor(settings, IidTestSupport.fileSource(settings, CLOCK),
                    new IidTestSupport.MemoryJtiLedger(), Optional.of(nova), CLOCK);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "5m")
    void attest(byte[] payload) {
        try {
            assertNotNull(ATTESTOR.attest(payload).evidence());
        } catch (IidAttestationException e) {
            assertNotNull(e.getMessage());
            assertNotNull(e.kind());
        }
    }

    @Test
    void attest_everyTruncationAndByteChange_onlyAttestationExceptions() {
        Map<String, Object> claims = IidTestSupport.claims(SEEDS_SIGNED_AT);
        for (String document : List.of(
                IidTestSupport.sign(IidTestSupport.EC256, "ES256", IidTestSupport.KID_EC256, claims),
                IidTestSupport.sign(IidTestSupport.RSA, "PS256", IidTestSupport.KID_RSA, claims))) {
            for (byte[] mutant : mutants(document.getBytes(StandardCharsets.US_ASCII))) {
                attest(mutant);
            }
        }
    }

    @Test
    void attest_everyByteChangeOfTheDecodedParts_onlyAttestationExceptions() {
        // Mutations inside the JSON (after base64url), re-signed so they get past the signature to the claims parser.
        String header = "{\"alg\":\"ES256\",\"kid\":\"kid-ec256\",\"typ\":\"openstack-iid+jwt\"}";
        String claimsJson = JSONObjectUtils.toJSONString(IidTestSupport.claims(SEEDS_SIGNED_AT));
        byte[] json = claimsJson.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < json.length; i += 3) {
            for (int value : new int[] {0x00, '"', '{', ']', 0xff}) {
                byte[] changed = json.clone();
                changed[i] = (byte) value;
                attest(signedRaw(header, changed));
            }
        }
    }

    @Test
    void attest_validSeedDocument_attests() throws Exception {
        Path seed = Path.of("src/test/resources/dev/bourne/openstack/server/OpenStackServerAttestorFuzzTestInputs/"
                + "attest/valid-es256");
        byte[] document = Files.readAllBytes(seed);
        try {
            assertEquals(IidTestSupport.INSTANCE, ATTESTOR.attest(document).instanceId());
        } catch (IidAttestationException e) {
            // Replayed by the fuzz target first in the same JVM: then its jti is already used.
            assertEquals(OpenStackServerAttestor.JTI_REUSED, e.getMessage());
        }
    }

    private static byte[] signedRaw(String header, byte[] claims) {
        String input = IidTestSupport.encode(header) + "."
                + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(claims);
        try {
            String signature = new com.nimbusds.jose.crypto.ECDSASigner(
                    (java.security.interfaces.ECPrivateKey) IidTestSupport.EC256.getPrivate())
                    .sign(new com.nimbusds.jose.JWSHeader(JWSAlgorithm.ES256),
                            input.getBytes(StandardCharsets.US_ASCII)).toString();
            return (input + "." + signature).getBytes(StandardCharsets.US_ASCII);
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<byte[]> mutants(byte[] message) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < message.length; i++) {
            out.add(Arrays.copyOf(message, i));
            for (int value : new int[] {0x00, 0xff, '.', message[i] ^ 0x01, message[i] + 1}) {
                byte[] changed = message.clone();
                changed[i] = (byte) value;
                out.add(changed);
            }
        }
        return out;
    }
}
