package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fuzzes the parsers the server runs on bytes an agent sends: TpmPublic (then everything the server does with a
 * parsed key: name, EK hash, AK policy, MakeCredential), TpmsAttest and TpmSignature (then verification). Only a
 * {@link TpmFormatException} may escape a parser, only a documented {@link TpmVerificationException} or
 * {@link IllegalArgumentException} constant what follows; any other exception is a finding.
 *
 * <p>In a normal build Jazzer replays the committed seeds under
 * {@code src/test/resources/dev/bourne/tpm/common/TpmStructuresFuzzTestInputs/<method>/} (swtpm EKs, AKs, quotes and
 * signatures, and an empty input). To fuzz one method, as for the CSR fuzz test in docs/ca-and-hsm.md:
 * {@code JAZZER_FUZZ=1 mvn -B -o -pl tpm-attestor -am verify -Dtest='TpmStructuresFuzzTest#parsePublic'
 * -Dsurefire.failIfNoSpecifiedTests=false "-DargLine=-Djazzer.internal.arg.0=fuzz
 * -Djazzer.internal.arg.1=-max_total_time=120"}.
 */
class TpmStructuresFuzzTest {

    private static final KeyPair EC = SoftwareKeys.ecP256();
    private static final KeyPair RSA = SoftwareKeys.rsa(2048);
    private static final byte[] DATA = "signed data".getBytes();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> AK_REASONS = constants(AttestationKeyCheck.class);
    private static final Set<String> CREDENTIAL_REASONS = constants(MakeCredential.class);

    private static Set<String> constants(Class<?> holder) {
        Set<String> messages = new HashSet<>();
        try {
            for (Field field : holder.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                    messages.add((String) field.get(null));
                }
            }
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
        return messages;
    }

    private static void assertFormatMessage(String structure, TpmFormatException e) {
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(structure + ": "), e.getMessage());
    }

    @FuzzTest(maxDuration = "10m")
    void parsePublic(byte[] data) {
        TpmPublic parsed;
        try {
            parsed = TpmPublic.parse(data);
        } catch (TpmFormatException e) {
            assertFormatMessage("TPMT_PUBLIC", e);
            return;
        }
        assertEquals(2 + parsed.nameAlg().digestLength(), parsed.name().length);
        assertEquals(64, EkHash.of(parsed.publicKey()).length());
        try {
            AttestationKeyCheck.check(parsed);
        } catch (TpmVerificationException e) {
            assertTrue(AK_REASONS.contains(e.getMessage()), e.getMessage());
        }
        try {
            MakeCredential.Credential credential = MakeCredential.make(parsed, parsed.name(), new byte[16], RANDOM);
            assertTrue(credential.credentialBlob().length > 18);
        } catch (IllegalArgumentException e) {
            assertTrue(CREDENTIAL_REASONS.contains(e.getMessage()), e.getMessage());
        }
    }

    @FuzzTest(maxDuration = "10m")
    void parseAttest(byte[] data) {
        TpmsAttest parsed;
        try {
            parsed = TpmsAttest.parse(data);
        } catch (TpmFormatException e) {
            assertFormatMessage("TPMS_ATTEST", e);
            return;
        }
        List<PcrSelection> selections = parsed.pcrSelections();
        assertTrue(parsed.type() == TpmsAttest.TYPE_QUOTE || selections.isEmpty());
        assertTrue(parsed.extraData().length <= 66 && parsed.pcrDigest().length <= 64);
    }

    @FuzzTest(maxDuration = "10m")
    void parseSignature(byte[] data) {
        TpmSignature parsed;
        try {
            parsed = TpmSignature.parse(data);
        } catch (TpmFormatException e) {
            assertFormatMessage("TPMT_SIGNATURE", e);
            return;
        }
        // Garbage must be rejected by returning false; a fuzzer forging a real signature would be a finding too.
        assertEquals(false, parsed.verify(EC.getPublic(), DATA));
        assertEquals(false, parsed.verify(RSA.getPublic(), DATA));
    }
}
