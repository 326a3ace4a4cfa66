package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fuzzes the CSR path (parse, checks, issuance) with arbitrary bytes: every input must end in either a valid SVID or
 * an {@link X509SvidIssuanceException} carrying one of the documented constant messages; any other exception, or an
 * SVID that core's verifier rejects, is a finding.
 *
 * <p>In a normal build Jazzer runs in regression mode and replays only the committed seeds under
 * {@code src/test/resources/dev/bourne/appliance/ca/CsrIssuanceFuzzTestInputs/csrParseAndIssue/}. To fuzz, see
 * docs/ca-and-hsm.md ({@code JAZZER_FUZZ=1}).
 */
class CsrIssuanceFuzzTest {
    private static final Instant NOW = Instant.parse("2026-12-04T06:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final SpiffeId ID = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");
    private static final X509Authority CA;
    private static final X509SvidIssuer ISSUER;
    private static final X509SvidVerifier VERIFIER;
    private static final Set<String> MESSAGES = new HashSet<>();

    static {
        try {
            CA = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256),
                    NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)));
            ISSUER = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK, new SecureRandom());
            VERIFIER = new X509SvidVerifier(TestAuthorities.bundle(CA.certificate()), CLOCK);
            for (Class<?> holder : List.of(CertificateRequests.class, SubjectKey.class)) {
                for (Field field : holder.getFields()) {
                    if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                        MESSAGES.add((String) field.get(null));
                    }
                }
            }
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void csrParseAndIssue(byte[] csr) throws Exception {
        IssuedX509Svid svid;
        try {
            svid = ISSUER.issue(CA, csr, ID, List.of("web.example.org"), Duration.ofHours(1));
        } catch (X509SvidIssuanceException e) {
            assertTrue(MESSAGES.contains(e.getMessage()), "not a documented CSR error: " + e.getMessage());
            assertTrue(e.reason().badRequest(), "a CSR problem is the caller's: " + e.reason());
            return;
        }
        assertEquals(ID, VERIFIER.verify(svid.chain()).spiffeId());
    }
}
