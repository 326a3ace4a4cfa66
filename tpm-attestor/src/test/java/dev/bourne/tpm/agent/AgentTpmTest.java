package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.Exec;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMT_HA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/** EK, AK, credential activation and quotes against swtpm, with tpm2-tools and openssl as the oracle. */
@WithSwtpm
class AgentTpmTest {

    private static final int RSA_AK_HANDLE = 0x81010B0F;

    @TempDir
    Path dir;

    private static TpmAgentSettings settings(Swtpm swtpm, AkType type) {
        TpmAgentSettings defaults = Tpm2Tools.settings(swtpm);
        return type == AkType.ECC_P256 ? defaults : defaults.withAk(RSA_AK_HANDLE, AkType.RSA_2048);
    }

    @Test
    void endorsementKey_certificateFromNv_equalsSwtpmEkCertificate(Swtpm swtpm) throws Exception {
        byte[] expected = swtpm.ekCertificate().getEncoded();
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            EndorsementKey ek = tpm.endorsementKey();

            assertEquals(EndorsementKey.Type.RSA, ek.type());
            assertArrayEquals(expected, ek.certificate().orElseThrow());
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void endorsementKey_publicAreaAndHash_equalTpm2ReadpublicAndOpenssl(Swtpm swtpm) throws Exception {
        EndorsementKey ek;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            ek = tpm.endorsementKey();
        }
        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_readpublic", "-c", "0x81010001", "-o", tools.file("ek.pub").toString(), "-f", "pem",
                "-o", tools.file("ek.pem").toString());
        tools.run("tpm2_readpublic", "-c", "0x81010001", "-o", tools.file("ek.tss").toString());
        Exec.run(List.of("openssl", "pkey", "-pubin", "-in", tools.file("ek.pem").toString(), "-outform", "DER",
                "-out", tools.file("ek.der").toString())).requireSuccess();

        byte[] tpm2b = Files.readAllBytes(tools.file("ek.tss"));
        assertArrayEquals(Arrays.copyOfRange(tpm2b, 2, tpm2b.length), ek.publicArea());
        String opensslHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(tools.file("ek.der"))));
        assertEquals(opensslHash, ek.ekHash());
    }

    @ParameterizedTest
    @EnumSource(AkType.class)
    void akPublic_createdOnce_persistedAndReusedOnReopen(AkType type, Swtpm swtpm) throws Exception {
        TpmAgentSettings settings = settings(swtpm, type);
        byte[] first;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings)) {
            first = tpm.akPublic();
        }
        byte[] second;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings)) {
            second = tpm.akPublic();
        }
        assertArrayEquals(first, second);

        TPMT_PUBLIC ak = TPMT_PUBLIC.fromBytes(first);
        for (TPMA_OBJECT attribute : List.of(TPMA_OBJECT.restricted, TPMA_OBJECT.sign, TPMA_OBJECT.fixedTPM,
                TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth)) {
            assertTrue(ak.objectAttributes.hasAttr(attribute), attribute + " missing");
        }
        assertTrue(!ak.objectAttributes.hasAttr(TPMA_OBJECT.decrypt));
        if (type == AkType.ECC_P256) {
            assertTrue(ak.parameters instanceof TPMS_ECC_PARMS);
        } else {
            assertEquals(2048, ((TPMS_RSA_PARMS) ak.parameters).keyBits);
        }
        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_readpublic", "-c", AgentTpm.handleHex(settings.akHandle()), "-o",
                tools.file("ak.tss").toString());
        byte[] tpm2b = Files.readAllBytes(tools.file("ak.tss"));
        assertArrayEquals(Arrays.copyOfRange(tpm2b, 2, tpm2b.length), first);
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void akPublic_handleHoldsAnotherKey_refusedNotOverwritten(Swtpm swtpm) throws Exception {
        // The EK is a restricted decryption key: an AK handle pointing at it must be refused, and the EK kept.
        TpmAgentSettings settings = Tpm2Tools.settings(swtpm).withAk(0x81000001, AkType.ECC_P256);
        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", tools.file("srk.ctx").toString());
        tools.run("tpm2_evictcontrol", "-C", "o", "-c", tools.file("srk.ctx").toString(), "0x81000001");
        tools.run("tpm2_flushcontext", "-t");
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings)) {
            AgentTpmException e = assertThrows(AgentTpmException.class, tpm::akPublic);
            assertEquals("use the AK at 0x81000001 failed: the handle " + String.format(AgentTpm.AK_HANDLE_TAKEN,
                    "ecc-p256"), e.getMessage());
        }
        String stillThere = tools.run("tpm2_readpublic", "-c", "0x81000001").stdout();
        assertTrue(stillThere.contains("decrypt"), stillThere);
    }

    @ParameterizedTest
    @EnumSource(AkType.class)
    void activateCredential_tpm2Makecredential_returnsSecret(AkType type, Swtpm swtpm) throws Exception {
        byte[] akPublic;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm, type))) {
            akPublic = tpm.akPublic();
        }
        byte[] secret = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
        Tpm2Tools.Credential credential = new Tpm2Tools(swtpm, dir).makeCredential(Tpm2Tools.name(akPublic), secret);

        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm, type))) {
            assertArrayEquals(secret, tpm.activateCredential(credential.blob(), credential.encryptedSecret()));
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void activateCredential_madeForAnotherName_failsWithResponseCode(Swtpm swtpm) throws Exception {
        byte[] otherName = new byte[34];
        otherName[1] = 0x0b;
        Arrays.fill(otherName, 2, 34, (byte) 0x5a);
        Tpm2Tools.Credential credential = new Tpm2Tools(swtpm, dir).makeCredential(otherName, new byte[32]);

        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            AgentTpmException e = assertThrows(AgentTpmException.class,
                    () -> tpm.activateCredential(credential.blob(), credential.encryptedSecret()));
            assertEquals("TPM2_ActivateCredential", e.command());
            assertTrue(e.getMessage().startsWith("TPM2_ActivateCredential failed with TPM response code 0x"),
                    e.getMessage());
            assertTrue(e.responseCode().isPresent());
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @ParameterizedTest
    @EnumSource(AkType.class)
    void quote_verifiedByTpm2Checkquote_andFailsWithAFlippedByte(AkType type, Swtpm swtpm) throws Exception {
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(16), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        byte[] nonce = HexFormat.of().parseHex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0");
        Quote quote;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm, type))) {
            quote = tpm.quote(nonce, TpmHashAlg.SHA256.id(), new int[] {0, 1, 16, 23});
        }
        assertEquals(List.of(0, 1, 16, 23), List.copyOf(quote.pcrValues().keySet()));
        assertNotEquals(HexFormat.of().formatHex(new byte[32]), HexFormat.of().formatHex(quote.pcrValues().get(16)));

        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_readpublic", "-c", AgentTpm.handleHex(settings(swtpm, type).akHandle()), "-f", "pem", "-o",
                tools.file("ak.pem").toString());
        Files.write(tools.file("msg"), quote.attest());
        Files.write(tools.file("sig"), quote.signature());
        Files.write(tools.file("pcrs"), Tpm2Tools.checkquotePcrFile(quote.hashAlg(), quote.pcrValues()));
        String[] check = {"tpm2_checkquote", "-u", tools.file("ak.pem").toString(), "-m", tools.file("msg").toString(),
            "-s", tools.file("sig").toString(), "-f", tools.file("pcrs").toString(), "-g", "sha256", "-q",
            HexFormat.of().formatHex(nonce)};
        tools.run(check);

        byte[] flipped = quote.attest();
        flipped[flipped.length - 1] ^= 1;
        Files.write(tools.file("msg"), flipped);
        assertNotEquals(0, tools.runAllowingFailure(check).exitCode());
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }


}
