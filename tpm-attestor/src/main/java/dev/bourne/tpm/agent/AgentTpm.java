package dev.bourne.tpm.agent;

import dev.bourne.tpm.agent.internal.KeyTemplates;
import dev.bourne.tpm.agent.internal.ResponseParameters;
import dev.bourne.tpm.agent.internal.TpmCommands;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.common.TpmHashAlg;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import tss.Tpm;
import tss.TpmDevice;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.CreateResponse;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.NV_ReadPublicResponse;
import tss.tpm.PCR_ReadResponse;
import tss.tpm.StartAuthSessionResponse;
import tss.tpm.TPM2B_DIGEST;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPMA_NV;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPML_TAGGED_TPM_PROPERTY;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMS_SCHEME_HASH;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_TAGGED_PROPERTY;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_ECC_CURVE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_PT;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SE;

/**
 * The agent's TPM: endorsement key, attestation key, credential activation, quotes, the boot event log, and sealing
 * secrets to PCR values. One connection to one TPM ({@link TpmDevices}); every method is synchronized because a TPM
 * answers one command at a time.
 *
 * <p><b>Flushing.</b> Every transient object (a recreated EK, the storage key, a loaded sealed object) and every
 * session this class creates is flushed before the method returns, whatever happened: TPMs without a resource manager
 * (swtpm, {@code /dev/tpm0}) hold only three of each, and objects outlive our connection.
 *
 * <p><b>The AK.</b> Created once under the EK (so quotes carry the real reset and restart counts, which the owner
 * hierarchy obfuscates) and persisted at {@code ak_handle}. A key already at that handle is reused when it is a
 * restricted signing key of the configured type with the attributes Bourne creates (fixedTPM, fixedParent,
 * sensitiveDataOrigin, userWithAuth, SHA-256 scheme); anything else there is refused, never evicted: a persistent handle
 * may belong to another program, and evicting its key would destroy it.
 *
 * <p><b>TSS.Java</b> is the command layer only; TPM structures the server verifies (public areas, TPMS_ATTEST,
 * TPMT_SIGNATURE) are forwarded byte for byte from the TPM's response, never re-marshalled.
 */
public final class AgentTpm implements AutoCloseable {

    /** NV index of the RSA EK certificate (TCG EK Credential Profile). */
    public static final int RSA_EK_CERTIFICATE_INDEX = 0x01C00002;
    /** NV index of the ECC (P-256) EK certificate. */
    public static final int ECC_EK_CERTIFICATE_INDEX = 0x01C0000A;
    /** Persistent handle of the RSA EK (TCG Provisioning Guidance). */
    public static final int RSA_EK_HANDLE = 0x81010001;
    /** Persistent handle of the ECC EK. */
    public static final int ECC_EK_HANDLE = 0x81010002;
    /** The boot event log is read up to this size; a larger one is refused rather than truncated. */
    public static final int MAX_EVENT_LOG = 16 * 1024 * 1024;
    /** A keyed-hash sealed object holds at most MAX_SYM_DATA (128) bytes. */
    public static final int MAX_SEALED_SECRET = 128;
    /** TPM2B_DATA holds at most a TPMT_HA: 64 bytes of digest on TPMs with SHA-512. */
    public static final int MAX_QUALIFYING_DATA = 64;

    public static final String SECRET_TOO_LONG = "a sealed secret is at most 128 bytes";
    public static final String SECRET_EMPTY = "a sealed secret must not be empty";
    public static final String SEALED_BLOB_REJECTED = "the TPM refused to load the sealed blob: it was altered or "
            + "sealed under another TPM's storage key";
    public static final String AK_HANDLE_TAKEN = "holds a key that is not a restricted %s signing key with the "
            + "attributes Bourne creates; Bourne never overwrites a persistent key it did not create: set ak_handle to "
            + "a free handle, or evict that key (tpm2_evictcontrol) if nothing uses it";
    public static final String PCRS_KEPT_CHANGING = "PCRs were extended during each of 3 attempts to read them and "
            + "quote them in one PCR update epoch";

    private static final int MAX_NV_CHUNK = 1024;
    private static final int QUOTE_ATTEMPTS = 3;
    private static final int RC_HANDLE = 0x0B;
    private static final int RC_POLICY_FAIL = 0x1D;
    private static final int RC_VALUE = 0x04;
    private static final int RC_ASYMMETRIC = 0x01;
    private static final int RC_KEY_SIZE = 0x07;

    private final TpmAgentSettings settings;
    private final TpmCommands commands;
    private final SecureRandom random;
    private Ek ek;
    private byte[] akPublic;
    private boolean closed;

    private AgentTpm(TpmAgentSettings settings, TpmDevice device, SecureRandom random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.commands = new TpmCommands(device);
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Opens the TPM named by {@code settings.device()}; touches no key yet. */
    public static AgentTpm open(TpmAgentSettings settings) throws AgentTpmException {
        return new AgentTpm(settings, TpmDevices.open(settings.device()), new SecureRandom());
    }

    public TpmAgentSettings settings() {
        return settings;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Endorsement key

    /** The EK as read once from this TPM (certificate, public area, EK hash); cached afterwards. */
    public synchronized EndorsementKey endorsementKey() throws AgentTpmException {
        return ek().key;
    }

    /** Which EK the TPM has and how to get a handle to it: persistent, or recreated from its template when needed. */
    private static final class Ek {
        final EndorsementKey key;
        final Integer persistentHandle;
        final TPMT_PUBLIC template;

        Ek(EndorsementKey key, Integer persistentHandle, TPMT_PUBLIC template) {
            this.key = key;
            this.persistentHandle = persistentHandle;
            this.template = template;
        }
    }

    private Ek ek() throws AgentTpmException {
        requireOpen();
        if (ek != null) {
            return ek;
        }
        Optional<byte[]> rsaCertificate = readNv(RSA_EK_CERTIFICATE_INDEX);
        Optional<Ek> rsa = persistentEk(RSA_EK_HANDLE, TPM_ALG_ID.RSA, EndorsementKey.Type.RSA, rsaCertificate);
        if (rsa.isPresent()) {
            return ek = rsa.get();
        }
        if (rsaCertificate.isPresent()) {
            return ek = createdEk(KeyTemplates.rsaEk(), EndorsementKey.Type.RSA, rsaCertificate);
        }
        Optional<byte[]> eccCertificate = readNv(ECC_EK_CERTIFICATE_INDEX);
        Optional<Ek> ecc = persistentEk(ECC_EK_HANDLE, TPM_ALG_ID.ECC, EndorsementKey.Type.ECC, eccCertificate);
        if (ecc.isPresent()) {
            return ek = ecc.get();
        }
        if (eccCertificate.isPresent()) {
            return ek = createdEk(KeyTemplates.eccEk(), EndorsementKey.Type.ECC, eccCertificate);
        }
        try {
            return ek = createdEk(KeyTemplates.rsaEk(), EndorsementKey.Type.RSA, Optional.empty());
        } catch (AgentTpmException rsaUnsupported) {
            int rc = rsaUnsupported.responseCode().orElse(0);
            if (!isFormat1(rc, RC_VALUE) && !isFormat1(rc, RC_ASYMMETRIC) && !isFormat1(rc, RC_KEY_SIZE)) {
                throw rsaUnsupported;
            }
            return ek = createdEk(KeyTemplates.eccEk(), EndorsementKey.Type.ECC, Optional.empty());
        }
    }

    private Optional<Ek> persistentEk(int handle, TPM_ALG_ID type, EndorsementKey.Type ekType,
            Optional<byte[]> certificate) throws AgentTpmException {
        Optional<byte[]> area = readPublicIfPresent(handle);
        if (area.isEmpty()) {
            return Optional.empty();
        }
        TPMT_PUBLIC parsed = parsePublic("TPM2_ReadPublic", area.get());
        // Only a key that is an EK by its template's rules: a storage key whose use needs PolicySecret(endorsement).
        if (!parsed.type().equals(type) || !parsed.objectAttributes.hasAttr(TPMA_OBJECT.restricted)
                || !parsed.objectAttributes.hasAttr(TPMA_OBJECT.decrypt)
                || !Arrays.equals(parsed.authPolicy, KeyTemplates.EK_AUTH_POLICY)) {
            return Optional.empty();
        }
        return Optional.of(new Ek(endorsementKey(ekType, certificate, area.get(), parsed), handle, null));
    }

    private Ek createdEk(TPMT_PUBLIC template, EndorsementKey.Type ekType, Optional<byte[]> certificate)
            throws AgentTpmException {
        try (Transients transients = new Transients()) {
            byte[] area = createPrimary(transients, TPM_RH.ENDORSEMENT, template).publicArea;
            TPMT_PUBLIC parsed = parsePublic("TPM2_CreatePrimary", area);
            return new Ek(endorsementKey(ekType, certificate, area, parsed), null, template);
        }
    }

    private static EndorsementKey endorsementKey(EndorsementKey.Type type, Optional<byte[]> certificate, byte[] area,
            TPMT_PUBLIC parsed) throws AgentTpmException {
        PublicKey key = publicKey("EK", parsed);
        return new EndorsementKey(type, certificate.orElse(null), area, key, EkHash.of(key));
    }

    /** A handle to the EK, loaded into {@code transients} when it is not persistent. */
    private TPM_HANDLE ekHandle(Transients transients) throws AgentTpmException {
        Ek e = ek();
        if (e.persistentHandle != null) {
            return new TPM_HANDLE(e.persistentHandle);
        }
        Primary created = createPrimary(transients, TPM_RH.ENDORSEMENT, e.template);
        if (!Arrays.equals(created.publicArea, e.key.publicArea())) {
            throw new AgentTpmException("TPM2_CreatePrimary", "the recreated EK differs from the one read before");
        }
        return created.handle;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Attestation key

    /**
     * The AK's public area (TPMT_PUBLIC as the TPM marshals it): the key at {@code ak_handle}, created under the EK and
     * persisted there on first use.
     *
     * @throws AgentTpmException if the handle holds a key Bourne would not have created ({@link #AK_HANDLE_TAKEN})
     */
    public synchronized byte[] akPublic() throws AgentTpmException {
        requireOpen();
        if (akPublic != null) {
            return akPublic.clone();
        }
        int handle = settings.akHandle();
        Optional<byte[]> existing = readPublicIfPresent(handle);
        if (existing.isPresent()) {
            requireBourneAk(handle, existing.get());
            akPublic = existing.get();
            return akPublic.clone();
        }
        TPMT_PUBLIC template = settings.akType() == AkType.ECC_P256 ? KeyTemplates.eccAk() : KeyTemplates.rsaAk();
        try (Transients transients = new Transients()) {
            TPM_HANDLE ekHandle = ekHandle(transients);
            TPM_HANDLE createSession = endorsementPolicySession(transients);
            CreateResponse created = commands.run("TPM2_Create", () -> tpm()._withSession(createSession)
                    .Create(ekHandle, new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]), template, new byte[0],
                            new TPMS_PCR_SELECTION[0]));
            transients.flush(createSession);
            TPM_HANDLE loadSession = endorsementPolicySession(transients);
            TPM_HANDLE loaded = transients.add(commands.run("TPM2_Load", () -> tpm()._withSession(loadSession)
                    .Load(ekHandle, created.outPrivate, created.outPublic)));
            transients.flush(loadSession);
            commands.run("TPM2_EvictControl", () -> tpm().EvictControl(TPM_HANDLE.from(TPM_RH.OWNER), loaded,
                    new TPM_HANDLE(handle)));
        }
        byte[] area = readPublicIfPresent(handle).orElseThrow(() -> new AgentTpmException("TPM2_EvictControl",
                "the AK is not at " + handleHex(handle) + " after persisting it"));
        requireBourneAk(handle, area);
        akPublic = area;
        return akPublic.clone();
    }

    private void requireBourneAk(int handle, byte[] area) throws AgentTpmException {
        String operation = "use the AK at " + handleHex(handle);
        TPMT_PUBLIC parsed;
        try {
            parsed = TPMT_PUBLIC.fromBytes(area);
        } catch (RuntimeException e) {
            throw new AgentTpmException(operation, String.format(Locale.ROOT, AK_HANDLE_TAKEN,
                    settings.akType().configName()), e);
        }
        if (!isBourneAk(parsed, settings.akType())) {
            throw new AgentTpmException(operation, "the handle " + String.format(Locale.ROOT, AK_HANDLE_TAKEN,
                    settings.akType().configName()));
        }
    }

    private static boolean isBourneAk(TPMT_PUBLIC area, AkType type) {
        TPMA_OBJECT attributes = area.objectAttributes;
        for (TPMA_OBJECT required : new TPMA_OBJECT[] {TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.restricted, TPMA_OBJECT.sign}) {
            if (!attributes.hasAttr(required)) {
                return false;
            }
        }
        if (attributes.hasAttr(TPMA_OBJECT.decrypt) || !TPM_ALG_ID.SHA256.equals(area.nameAlg)) {
            return false;
        }
        if (type == AkType.ECC_P256) {
            return area.parameters instanceof TPMS_ECC_PARMS ecc && TPM_ECC_CURVE.NIST_P256.equals(ecc.curveID)
                    && TPM_ALG_ID.ECDSA.equals(ecc.schemeScheme()) && ecc.scheme instanceof TPMS_SCHEME_HASH hash
                    && TPM_ALG_ID.SHA256.equals(hash.hashAlg);
        }
        return area.parameters instanceof TPMS_RSA_PARMS rsa && rsa.keyBits == 2048
                && TPM_ALG_ID.RSASSA.equals(rsa.schemeScheme()) && rsa.scheme instanceof TPMS_SCHEME_HASH hash
                && TPM_ALG_ID.SHA256.equals(hash.hashAlg);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Credential activation

    /**
     * TPM2_ActivateCredential with the AK and the EK: recovers the secret the server encrypted to the EK for this AK's
     * name, which proves the AK lives in the TPM holding the EK.
     *
     * @param credentialBlob TPM2B_ID_OBJECT contents: integrityHMAC (TPM2B_DIGEST) then encIdentity
     * @param encryptedSecret TPM2B_ENCRYPTED_SECRET contents
     * @return the secret (TPM2B_DIGEST contents)
     */
    public synchronized byte[] activateCredential(byte[] credentialBlob, byte[] encryptedSecret)
            throws AgentTpmException {
        Objects.requireNonNull(credentialBlob, "credentialBlob");
        Objects.requireNonNull(encryptedSecret, "encryptedSecret");
        String command = "TPM2_ActivateCredential";
        TPMS_ID_OBJECT idObject = idObject(command, credentialBlob);
        akPublic();
        TPM_HANDLE ak = new TPM_HANDLE(settings.akHandle());
        try (Transients transients = new Transients()) {
            TPM_HANDLE ekHandle = ekHandle(transients);
            TPM_HANDLE session = endorsementPolicySession(transients);
            return commands.run(command, () -> tpm()._withSessions(TPM_HANDLE.pwSession(new byte[0]), session)
                    .ActivateCredential(ak, ekHandle, idObject, encryptedSecret));
        }
    }

    private static TPMS_ID_OBJECT idObject(String command, byte[] blob) throws AgentTpmException {
        if (blob.length < 2) {
            throw new AgentTpmException(command, "the credential blob is shorter than its integrity HMAC size");
        }
        int hmacSize = ((blob[0] & 0xff) << 8) | (blob[1] & 0xff);
        if (hmacSize == 0 || hmacSize > 64 || blob.length < 2 + hmacSize + 1) {
            throw new AgentTpmException(command, "the credential blob's integrity HMAC size " + hmacSize
                    + " does not fit a blob of " + blob.length + " bytes");
        }
        return new TPMS_ID_OBJECT(Arrays.copyOfRange(blob, 2, 2 + hmacSize),
                Arrays.copyOfRange(blob, 2 + hmacSize, blob.length));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Quotes

    /**
     * TPM2_Quote with the AK over {@code pcrs} of bank {@code hashAlg}, qualified by {@code nonce}, with the values of
     * those PCRs read in the same PCR update epoch (retried up to 3 times when something extends a PCR meanwhile).
     *
     * @param nonce the server's qualifying data, at most 64 bytes
     * @param hashAlg TPM_ALG_ID of the PCR bank
     * @param pcrs PCR indices 0..23
     */
    public synchronized Quote quote(byte[] nonce, int hashAlg, int[] pcrs) throws AgentTpmException {
        Objects.requireNonNull(nonce, "nonce");
        if (nonce.length > MAX_QUALIFYING_DATA) {
            throw new IllegalArgumentException("a quote nonce is at most " + MAX_QUALIFYING_DATA + " bytes");
        }
        TpmHashAlg bank = bank(hashAlg);
        int[] indices = pcrIndices(pcrs);
        akPublic();
        TPM_HANDLE ak = new TPM_HANDLE(settings.akHandle());
        TPMS_PCR_SELECTION[] selection = selection(bank, indices);
        for (int attempt = 0; attempt < QUOTE_ATTEMPTS; attempt++) {
            PcrValues before = readPcrs(bank, indices);
            if (before == null) {
                continue;
            }
            commands.run("TPM2_Quote", () -> tpm().Quote(ak, nonce.clone(), new TPMS_NULL_SIG_SCHEME(), selection));
            ResponseParameters parameters = new ResponseParameters("TPM2_Quote",
                    commands.lastResponseParameters("TPM2_Quote", 0));
            byte[] attest = parameters.nextSized("TPM2B_ATTEST");
            byte[] signature = parameters.rest();
            if (attest.length == 0 || signature.length < 2) {
                throw new AgentTpmException("TPM2_Quote", "the TPM returned an empty quote or signature");
            }
            int after = pcrUpdateCounter(bank, indices[0]);
            if (after == before.updateCounter) {
                return new Quote(attest, signature, hashAlg, before.values);
            }
        }
        throw new AgentTpmException("TPM2_Quote", PCRS_KEPT_CHANGING);
    }

    private record PcrValues(int updateCounter, Map<Integer, byte[]> values) {
    }

    /** The values of {@code indices}, or null when a PCR was extended between two PCR_Read calls. */
    private PcrValues readPcrs(TpmHashAlg bank, int[] indices) throws AgentTpmException {
        TreeSet<Integer> remaining = new TreeSet<>();
        for (int index : indices) {
            remaining.add(index);
        }
        Map<Integer, byte[]> values = new LinkedHashMap<>();
        Integer counter = null;
        while (!remaining.isEmpty()) {
            int[] ask = remaining.stream().mapToInt(Integer::intValue).toArray();
            PCR_ReadResponse read = commands.run("TPM2_PCR_Read", () -> tpm().PCR_Read(selection(bank, ask)));
            if (counter != null && counter != read.pcrUpdateCounter) {
                return null;
            }
            counter = read.pcrUpdateCounter;
            int valueIndex = 0;
            boolean progress = false;
            for (TPMS_PCR_SELECTION returned : read.pcrSelectionOut) {
                if (returned.hash.toInt() != bank.id()) {
                    throw new AgentTpmException("TPM2_PCR_Read", "the TPM answered for bank 0x"
                            + Integer.toHexString(returned.hash.toInt()) + " instead of " + bank.configName());
                }
                for (int bit = 0; bit < returned.pcrSelect.length * 8; bit++) {
                    if ((returned.pcrSelect[bit / 8] & (1 << (bit % 8))) == 0) {
                        continue;
                    }
                    if (!remaining.remove(bit) || valueIndex >= read.pcrValues.length) {
                        throw new AgentTpmException("TPM2_PCR_Read", "the TPM returned PCR " + bit
                                + " unasked or without a value");
                    }
                    TPM2B_DIGEST value = read.pcrValues[valueIndex++];
                    if (value.buffer == null || value.buffer.length != bank.digestLength()) {
                        throw new AgentTpmException("TPM2_PCR_Read", "PCR " + bit + " has a value of the wrong size");
                    }
                    values.put(bit, value.buffer.clone());
                    progress = true;
                }
            }
            if (!progress) {
                throw new AgentTpmException("TPM2_PCR_Read", "the TPM returned no value for PCRs " + remaining
                        + " of bank " + bank.configName() + " (is that bank allocated?)");
            }
        }
        return new PcrValues(counter, values);
    }

    private int pcrUpdateCounter(TpmHashAlg bank, int index) throws AgentTpmException {
        return commands.run("TPM2_PCR_Read", () -> tpm().PCR_Read(selection(bank, new int[] {index})))
                .pcrUpdateCounter;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Event log

    /**
     * The TCG binary boot event log from {@code event_log_path}; empty when the file does not exist or is empty (no
     * firmware log exposed, as on swtpm).
     *
     * @throws AgentTpmException when it exists but cannot be read or exceeds {@link #MAX_EVENT_LOG}
     */
    public Optional<byte[]> eventLog() throws AgentTpmException {
        Path path = settings.eventLogPath();
        String operation = "read the boot event log " + path;
        // securityfs reports a size of 0 for the log: read with a bound instead of trusting the size.
        try (InputStream in = Files.newInputStream(path)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                if (out.size() + n > MAX_EVENT_LOG) {
                    throw new AgentTpmException(operation, "it is larger than " + MAX_EVENT_LOG + " bytes");
                }
                out.write(buffer, 0, n);
            }
            return out.size() == 0 ? Optional.empty() : Optional.of(out.toByteArray());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new AgentTpmException(operation, e.toString(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sealing

    /** {@link #seal(byte[], int, int[])} with the configured {@code seal_pcrs} and {@code seal_pcr_bank}. */
    public byte[] seal(byte[] secret) throws AgentTpmException {
        return seal(secret, settings.sealPcrBank().id(), settings.sealPcrArray());
    }

    /**
     * Seals {@code secret} to the current values of {@code pcrs}: a keyed-hash data object under a transient storage
     * key of the owner hierarchy, whose only authorization is PolicyPCR over those values. Returns a {@link SealedBlob}
     * encoding; only this TPM, with those PCR values, can unseal it.
     *
     * @param secret 1 to 128 bytes (never logged)
     */
    public synchronized byte[] seal(byte[] secret, int hashAlg, int[] pcrs) throws AgentTpmException {
        requireOpen();
        Objects.requireNonNull(secret, "secret");
        if (secret.length == 0) {
            throw new IllegalArgumentException(SECRET_EMPTY);
        }
        if (secret.length > MAX_SEALED_SECRET) {
            throw new IllegalArgumentException(SECRET_TOO_LONG);
        }
        TpmHashAlg bank = bank(hashAlg);
        int[] indices = pcrIndices(pcrs);
        TPMS_PCR_SELECTION[] selection = selection(bank, indices);
        try (Transients transients = new Transients()) {
            TPM_HANDLE trial = transients.add(startSession(TPM_SE.TRIAL));
            commands.run("TPM2_PolicyPCR", () -> tpm().PolicyPCR(trial, new byte[0], selection));
            byte[] policy = commands.run("TPM2_PolicyGetDigest", () -> tpm().PolicyGetDigest(trial));
            transients.flush(trial);
            TPM_HANDLE srk = createPrimary(transients, TPM_RH.OWNER, KeyTemplates.eccSrk()).handle;
            commands.run("TPM2_Create", () -> tpm().Create(srk, new TPMS_SENSITIVE_CREATE(new byte[0],
                    secret.clone()), KeyTemplates.sealedData(policy), new byte[0], new TPMS_PCR_SELECTION[0]));
            ResponseParameters parameters = new ResponseParameters("TPM2_Create",
                    commands.lastResponseParameters("TPM2_Create", 0));
            byte[] privateArea = parameters.nextSized("TPM2B_PRIVATE");
            byte[] publicArea = parameters.nextSized("TPM2B_PUBLIC");
            return new SealedBlob(bank, indices, publicArea, privateArea).encode();
        }
    }

    /**
     * Unseals a blob made by {@link #seal}.
     *
     * @throws SealBrokenException when the PCRs no longer hold the values the blob is sealed to
     * @throws AgentTpmException any other failure: an altered blob ({@link #SEALED_BLOB_REJECTED}), a TPM error
     * @throws dev.bourne.tpm.common.TpmFormatException when the blob is not a well-formed {@link SealedBlob}
     */
    public synchronized byte[] unseal(byte[] blob) throws AgentTpmException {
        requireOpen();
        SealedBlob sealed = SealedBlob.decode(blob);
        TPMT_PUBLIC publicArea = sealed.parsedPublic();
        TPMS_PCR_SELECTION[] selection = selection(sealed.bank(), sealed.pcrs());
        try (Transients transients = new Transients()) {
            TPM_HANDLE srk = createPrimary(transients, TPM_RH.OWNER, KeyTemplates.eccSrk()).handle;
            TPM_HANDLE loaded;
            try {
                loaded = transients.add(commands.run("TPM2_Load", () -> tpm().Load(srk,
                        new TPM2B_PRIVATE(sealed.privateArea()), publicArea)));
            } catch (AgentTpmException e) {
                throw new AgentTpmException("TPM2_Load", e.responseCode().orElse(0), SEALED_BLOB_REJECTED, e);
            }
            TPM_HANDLE session = transients.add(startSession(TPM_SE.POLICY));
            commands.run("TPM2_PolicyPCR", () -> tpm().PolicyPCR(session, new byte[0], selection));
            byte[] digest = commands.run("TPM2_PolicyGetDigest", () -> tpm().PolicyGetDigest(session));
            if (!Arrays.equals(digest, publicArea.authPolicy)) {
                throw new SealBrokenException("TPM2_PolicyPCR", 0, "policy digest of the current "
                        + sealed.bank().configName() + " PCRs " + Arrays.toString(sealed.pcrs())
                        + " differs from the sealed object's");
            }
            try {
                return commands.run("TPM2_Unseal", () -> tpm()._withSession(session).Unseal(loaded));
            } catch (AgentTpmException e) {
                int rc = e.responseCode().orElse(0);
                if (isFormat1(rc, RC_POLICY_FAIL)) {
                    throw new SealBrokenException("TPM2_Unseal", rc, null);
                }
                throw e;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Plumbing

    private Tpm tpm() {
        return commands.tpm();
    }

    /** Transient objects and sessions created by one operation, flushed when it ends (in reverse order). */
    private final class Transients implements AutoCloseable {
        private final Deque<TPM_HANDLE> handles = new ArrayDeque<>();

        TPM_HANDLE add(TPM_HANDLE handle) {
            handles.push(handle);
            return handle;
        }

        /** Flushes {@code handle} now instead of at the end. */
        void flush(TPM_HANDLE handle) throws AgentTpmException {
            if (handles.remove(handle)) {
                commands.run("TPM2_FlushContext", () -> tpm().FlushContext(handle));
            }
        }

        @Override
        public void close() throws AgentTpmException {
            AgentTpmException failure = null;
            while (!handles.isEmpty()) {
                TPM_HANDLE handle = handles.pop();
                try {
                    commands.run("TPM2_FlushContext", () -> tpm().FlushContext(handle));
                } catch (AgentTpmException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    private record Primary(TPM_HANDLE handle, byte[] publicArea) {
    }

    private Primary createPrimary(Transients transients, TPM_RH hierarchy, TPMT_PUBLIC template)
            throws AgentTpmException {
        CreatePrimaryResponse created = commands.run("TPM2_CreatePrimary", () -> tpm().CreatePrimary(
                TPM_HANDLE.from(hierarchy), new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]), template, new byte[0],
                new TPMS_PCR_SELECTION[0]));
        TPM_HANDLE handle = transients.add(created.handle);
        byte[] area = new ResponseParameters("TPM2_CreatePrimary",
                commands.lastResponseParameters("TPM2_CreatePrimary", 1)).nextSized("TPM2B_PUBLIC");
        return new Primary(handle, area);
    }

    private TPM_HANDLE startSession(TPM_SE type) throws AgentTpmException {
        byte[] nonceCaller = new byte[32];
        random.nextBytes(nonceCaller);
        StartAuthSessionResponse started = commands.run("TPM2_StartAuthSession", () -> tpm().StartAuthSession(
                TPM_HANDLE.from(TPM_RH.NULL), TPM_HANDLE.from(TPM_RH.NULL), nonceCaller, new byte[0], type,
                new TPMT_SYM_DEF(TPM_ALG_ID.NULL, 0, TPM_ALG_ID.NULL), TPM_ALG_ID.SHA256));
        return started.handle;
    }

    /** A fresh policy session satisfying the EK's policy, PolicySecret(TPM_RH_ENDORSEMENT); one command's use. */
    private TPM_HANDLE endorsementPolicySession(Transients transients) throws AgentTpmException {
        TPM_HANDLE session = transients.add(startSession(TPM_SE.POLICY));
        commands.run("TPM2_PolicySecret", () -> tpm().PolicySecret(TPM_HANDLE.from(TPM_RH.ENDORSEMENT), session,
                new byte[0], new byte[0], new byte[0], 0));
        return session;
    }

    /** The public area at a persistent handle, or empty when nothing is there. */
    private Optional<byte[]> readPublicIfPresent(int handle) throws AgentTpmException {
        int rc = commands.probe("TPM2_ReadPublic", () -> tpm().ReadPublic(new TPM_HANDLE(handle)));
        if (isFormat1(rc, RC_HANDLE)) {
            return Optional.empty();
        }
        if (rc != 0) {
            throw new AgentTpmException("TPM2_ReadPublic", rc, "reading " + handleHex(handle), null);
        }
        return Optional.of(new ResponseParameters("TPM2_ReadPublic",
                commands.lastResponseParameters("TPM2_ReadPublic", 0)).nextSized("TPM2B_PUBLIC"));
    }

    /** The contents of an NV index (trimmed to its DER length when it holds a certificate), or empty if undefined. */
    private Optional<byte[]> readNv(int index) throws AgentTpmException {
        TPM_HANDLE nv = new TPM_HANDLE(index);
        NV_ReadPublicResponse[] answer = new NV_ReadPublicResponse[1];
        int rc = commands.probe("TPM2_NV_ReadPublic", () -> answer[0] = tpm().NV_ReadPublic(nv));
        if (isFormat1(rc, RC_HANDLE)) {
            return Optional.empty();
        }
        if (rc != 0) {
            throw new AgentTpmException("TPM2_NV_ReadPublic", rc, "reading NV index " + handleHex(index), null);
        }
        int size = answer[0].nvPublic.dataSize;
        if (size == 0) {
            return Optional.empty();
        }
        TPMA_NV attributes = answer[0].nvPublic.attributes;
        TPM_HANDLE auth;
        if (attributes.hasAttr(TPMA_NV.AUTHREAD)) {
            auth = new TPM_HANDLE(index);
        } else if (attributes.hasAttr(TPMA_NV.OWNERREAD)) {
            auth = TPM_HANDLE.from(TPM_RH.OWNER);
        } else {
            throw new AgentTpmException("TPM2_NV_Read", "NV index " + handleHex(index)
                    + " is readable neither with its own authorization nor the owner's");
        }
        int chunk = Math.min(MAX_NV_CHUNK, nvBufferMax());
        ByteArrayOutputStream contents = new ByteArrayOutputStream(size);
        for (int offset = 0; offset < size; offset += chunk) {
            int length = Math.min(chunk, size - offset);
            int at = offset;
            byte[] part = commands.run("TPM2_NV_Read", () -> tpm().NV_Read(auth, nv, length, at));
            if (part == null || part.length != length) {
                throw new AgentTpmException("TPM2_NV_Read", "asked for " + length + " bytes at offset " + at
                        + " of NV index " + handleHex(index) + ", got " + (part == null ? 0 : part.length));
            }
            contents.writeBytes(part);
        }
        return Optional.of(trimDer(contents.toByteArray()));
    }

    private int nvBufferMax() throws AgentTpmException {
        GetCapabilityResponse answer = commands.run("TPM2_GetCapability", () -> tpm().GetCapability(
                TPM_CAP.TPM_PROPERTIES, TPM_PT.NV_BUFFER_MAX.toInt(), 1));
        if (answer.capabilityData instanceof TPML_TAGGED_TPM_PROPERTY properties) {
            for (TPMS_TAGGED_PROPERTY property : properties.tpmProperty) {
                if (TPM_PT.NV_BUFFER_MAX.equals(property.property) && property.value > 0) {
                    return property.value;
                }
            }
        }
        return MAX_NV_CHUNK;
    }

    /**
     * Some TPMs store the EK certificate in an index larger than the certificate, padded with zeros or 0xFF: keep the
     * DER SEQUENCE only, when the contents start with one whose length fits.
     */
    static byte[] trimDer(byte[] contents) {
        if (contents.length < 2 || contents[0] != 0x30) {
            return contents;
        }
        int first = contents[1] & 0xff;
        long length;
        int header;
        if (first < 0x80) {
            length = first;
            header = 2;
        } else {
            int octets = first & 0x7f;
            if (octets == 0 || octets > 3 || contents.length < 2 + octets) {
                return contents;
            }
            length = 0;
            for (int i = 0; i < octets; i++) {
                length = (length << 8) | (contents[2 + i] & 0xff);
            }
            header = 2 + octets;
        }
        long total = header + length;
        return total <= contents.length ? Arrays.copyOf(contents, (int) total) : contents;
    }

    private static TPMT_PUBLIC parsePublic(String command, byte[] area) throws AgentTpmException {
        try {
            return TPMT_PUBLIC.fromBytes(area);
        } catch (RuntimeException e) {
            throw new AgentTpmException(command, "the TPM returned a public area that does not parse", e);
        }
    }

    /** The JCA public key of an RSA or ECC public area. */
    static PublicKey publicKey(String what, TPMT_PUBLIC area) throws AgentTpmException {
        try {
            if (area.parameters instanceof TPMS_RSA_PARMS rsa && area.unique instanceof TPM2B_PUBLIC_KEY_RSA modulus) {
                BigInteger exponent = BigInteger.valueOf(rsa.exponent == 0 ? 65537 : Integer.toUnsignedLong(
                        rsa.exponent));
                return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                        new BigInteger(1, modulus.buffer), exponent));
            }
            if (area.parameters instanceof TPMS_ECC_PARMS ecc && area.unique instanceof TPMS_ECC_POINT point) {
                String curve;
                if (TPM_ECC_CURVE.NIST_P256.equals(ecc.curveID)) {
                    curve = "secp256r1";
                } else if (TPM_ECC_CURVE.NIST_P384.equals(ecc.curveID)) {
                    curve = "secp384r1";
                } else if (TPM_ECC_CURVE.NIST_P521.equals(ecc.curveID)) {
                    curve = "secp521r1";
                } else {
                    throw new AgentTpmException("read the " + what, "unsupported ECC curve " + ecc.curveID);
                }
                AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
                parameters.init(new ECGenParameterSpec(curve));
                ECParameterSpec spec = parameters.getParameterSpec(ECParameterSpec.class);
                return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(
                        new ECPoint(new BigInteger(1, point.x), new BigInteger(1, point.y)), spec));
            }
        } catch (GeneralSecurityException e) {
            throw new AgentTpmException("read the " + what, "its public key is not valid: " + e.getMessage(), e);
        }
        throw new AgentTpmException("read the " + what, "it is neither an RSA nor an ECC key");
    }

    static TpmHashAlg bank(int hashAlg) {
        return TpmHashAlg.fromId(hashAlg).orElseThrow(() -> new IllegalArgumentException(
                "unknown PCR bank: TPM_ALG_ID 0x" + Integer.toHexString(hashAlg)));
    }

    static int[] pcrIndices(int[] pcrs) {
        Objects.requireNonNull(pcrs, "pcrs");
        if (pcrs.length == 0) {
            throw new IllegalArgumentException("at least one PCR must be selected");
        }
        TreeSet<Integer> unique = new TreeSet<>();
        for (int pcr : pcrs) {
            if (pcr < 0 || pcr > TpmAgentSettings.MAX_PCR) {
                throw new IllegalArgumentException("PCR index " + pcr + " is outside 0..23");
            }
            if (!unique.add(pcr)) {
                throw new IllegalArgumentException("PCR " + pcr + " is selected twice");
            }
        }
        return unique.stream().mapToInt(Integer::intValue).toArray();
    }

    static TPMS_PCR_SELECTION[] selection(TpmHashAlg bank, int[] indices) {
        byte[] bitmap = new byte[3];
        for (int index : indices) {
            bitmap[index / 8] |= (byte) (1 << (index % 8));
        }
        return new TPMS_PCR_SELECTION[] {new TPMS_PCR_SELECTION(TPM_ALG_ID.fromInt(bank.id()), bitmap)};
    }

    /** Whether {@code rc} is a format-one response code with error number {@code number}, whatever its parameter. */
    static boolean isFormat1(int rc, int number) {
        return (rc & 0x80) != 0 && (rc & 0x3F) == number;
    }

    static String handleHex(int handle) {
        return String.format(Locale.ROOT, "0x%08X", handle);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this AgentTpm is closed");
        }
    }

    /** Closes the connection to the TPM; persistent keys stay. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            commands.close();
        }
    }

    @Override
    public String toString() {
        return "AgentTpm[" + settings.device() + ", AK " + handleHex(settings.akHandle()) + "]";
    }
}
