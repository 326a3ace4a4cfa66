package dev.bourne.tpm.server;

import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.tpm.common.AttestationKeyCheck;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.common.MakeCredential;
import dev.bourne.tpm.common.ObjectAttribute;
import dev.bourne.tpm.common.PcrSelection;
import dev.bourne.tpm.common.QuoteVerifier;
import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.common.TpmVerificationException;
import dev.bourne.tpm.common.VerifiedQuote;
import dev.bourne.tpm.common.eventlog.EventLog;
import dev.bourne.tpm.server.TpmAttestationException.Kind;
import dev.bourne.tpm.server.TpmEnrollments.EnrollmentLookupException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * The server half of TPM node attestation (ARCHITECTURE.md section 3): decides whether an agent's TPM is trusted,
 * challenges it to prove that its attestation key (AK) lives in the TPM that holds the endorsement key (EK), verifies
 * its quote against a fresh nonce and the PCR policy, and, for continuous attestation, verifies a fresh quote by the
 * bound AK on every renewal.
 *
 * <p>Two steps per attestation: {@link #begin} takes the agent's {@code TpmAttestationPayload} and returns a
 * {@link Pending} holding the {@code TpmChallenge} to send and the server's private state (the credential secret,
 * nonce and PCR selection); {@link #finish} takes the agent's {@code TpmChallengeResponse} and returns
 * {@link Attested}. A pending challenge is single use and expires after {@code challenge_timeout}. Every failure is a
 * {@link TpmAttestationException} whose message is safe to send; every error on the way fails closed.
 *
 * <p>Security choices: the EK trust decision (enrolment, manufacturer CA chain, or both) comes first, so no challenge
 * is made for an untrusted TPM; the AK's attributes are checked by the server (a restricted signing key is what makes
 * a quote's {@code TPM_GENERATED} magic meaningful, and a software key loaded into the TPM would pass credential
 * activation otherwise); the AK name the credential is bound to is computed by the server from the AK public area,
 * never taken from the agent; secrets and nonces are 32 bytes from the injected {@link SecureRandom}; the secret is
 * compared in constant time; quotes are verified by Bourne's own JCA code ({@link QuoteVerifier}), never TSS.Java's.
 *
 * <p>Thread-safe: holds no per-attestation state; callers keep each {@link Pending} with their session.
 */
public final class TpmServerAttestor {

    /** Size of the credential secret and the quote nonce: 256 bits, a full SHA-256 block of entropy. */
    public static final int SECRET_BYTES = 32;
    public static final int NONCE_BYTES = 32;
    /** How many bound AKs renewals keep parsed (about 2 KB each). */
    public static final int PARSED_AK_CACHE = 10_000;

    public static final String EK_PUBLIC_MALFORMED = "EK public area is malformed";
    public static final String AK_PUBLIC_MALFORMED = "AK public area is malformed";
    public static final String EK_NOT_ENROLLED = "EK is not enrolled";
    public static final String ENROLLMENT_REVOKED = "the TPM's enrolment is revoked";
    public static final String ENROLLMENT_UNAVAILABLE = "the enrolment store cannot be read; try again later";
    public static final String EK_CERTIFICATE_REQUIRED = "an EK certificate is required and none was sent";
    public static final String EK_NOT_TRUSTED = "EK is neither enrolled nor certified by a configured TPM "
            + "manufacturer CA";
    public static final String CHALLENGE_USED = "the challenge was already answered";
    public static final String CHALLENGE_EXPIRED = "the challenge expired";
    public static final String CREDENTIAL_NOT_ACTIVATED = "the credential secret is wrong: the AK is not in the TPM "
            + "that holds the EK";
    public static final String QUOTE_MALFORMED = "the quote is malformed";
    public static final String EVENT_LOG_MALFORMED = "the event log is malformed";
    public static final String EVENT_LOG_MISMATCH = "the event log does not replay to the quoted PCRs";
    public static final String RENEWAL_CHALLENGE_STALE = "the renewal challenge was issued for another PCR selection";
    public static final String BOUND_AK_INVALID = "the AK bound at attestation is not a valid attestation key";

    private final TpmServerSettings settings;
    private final EkCaStore caStore;
    private final TpmEnrollments enrollments;
    private final Clock clock;
    private final SecureRandom random;
    private final PcrSelection selection;
    /**
     * Bound AKs parsed at earlier renewals, by their exact bytes (so a different AK is a different entry), least
     * recently used dropped first. A parsed key keeps BouncyCastle's per-key precomputation, which is most of an ECDSA
     * verification's cost on first use (docs/tpm.md, Benchmark).
     */
    private final Map<ByteBuffer, TpmPublic> parsedAks = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, TpmPublic> eldest) {
            return size() > PARSED_AK_CACHE;
        }
    };

    /**
     * @param settings the validated plugin settings
     * @param caStore the manufacturer CAs ({@link TpmServerSettings#loadEkCaStore}); may be empty for
     *     {@link EkTrustMode#ENROLLED}
     * @param enrollments the enrolment host service
     * @param clock for challenge expiry and certificate validity
     * @param random for secrets, nonces and MakeCredential's seeds
     */
    public TpmServerAttestor(TpmServerSettings settings, EkCaStore caStore, TpmEnrollments enrollments, Clock clock,
            SecureRandom random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.caStore = Objects.requireNonNull(caStore, "caStore");
        this.enrollments = Objects.requireNonNull(enrollments, "enrollments");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        if (settings.ekTrust().usesCertificates() && caStore.isEmpty()) {
            throw new IllegalArgumentException("ek_trust " + settings.ekTrust().configName()
                    + " needs manufacturer CA certificates");
        }
        this.selection = PcrSelection.of(settings.pcrBank(),
                settings.quoteSelection().stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Validates {@code plugin}'s {@code plugin_data}, reads the manufacturer CA certificates it names, and builds the
     * attestor: what the server's composition root calls for {@code NodeAttestor "tpm"}. Every configuration error at
     * once, with its key.
     */
    public static ConfigResult<TpmServerAttestor> configure(PluginConfig plugin, TpmEnrollments enrollments,
            Clock clock, SecureRandom random) {
        ConfigResult<TpmServerSettings> settings = TpmServerSettings.validate(plugin);
        if (!(settings instanceof ConfigResult.Valid<TpmServerSettings> valid)) {
            return new ConfigResult.Invalid<>(settings.errors());
        }
        ConfigResult<EkCaStore> cas = valid.settings().loadEkCaStore(plugin, clock);
        if (!(cas instanceof ConfigResult.Valid<EkCaStore> store)) {
            return new ConfigResult.Invalid<>(cas.errors());
        }
        return new ConfigResult.Valid<>(new TpmServerAttestor(valid.settings(), store.settings(), enrollments, clock,
                random), valid.warnings());
    }

    public TpmServerSettings settings() {
        return settings;
    }

    /**
     * Step 2: decides EK trust, checks the AK and makes the challenge.
     *
     * @param payload a {@code TpmAttestationPayload}
     * @throws TpmAttestationException INVALID_REQUEST for malformed input; REJECTED for an untrusted EK, a revoked
     *     enrolment or an unacceptable AK; UNAVAILABLE when the enrolment store cannot be read
     */
    public Pending begin(byte[] payload) throws TpmAttestationException {
        TpmServerProtos.Payload request = TpmServerProtos.parsePayload(payload);
        TpmPublic ek = parsePublic(request.ekPublic, EK_PUBLIC_MALFORMED);
        if (!ek.has(ObjectAttribute.RESTRICTED) || !ek.has(ObjectAttribute.DECRYPT)
                || ek.has(ObjectAttribute.SIGN_ENCRYPT)) {
            throw new TpmAttestationException(Kind.REJECTED, MakeCredential.EK_NOT_STORAGE_KEY);
        }
        String ekHash = EkHash.of(ek.publicKey());
        Optional<TpmEnrollment> enrollment = lookUp(ekHash);
        String trustBasis = decideEkTrust(ek, request.ekCertificate, enrollment);

        TpmPublic ak = parsePublic(request.akPublic, AK_PUBLIC_MALFORMED);
        try {
            AttestationKeyCheck.check(ak);
        } catch (TpmVerificationException e) {
            throw new TpmAttestationException(Kind.REJECTED, e.getMessage(), e);
        }

        byte[] secret = randomBytes(SECRET_BYTES);
        byte[] nonce = randomBytes(NONCE_BYTES);
        MakeCredential.Credential credential;
        try {
            // The AK name is the server's own computation over the public area it just checked.
            credential = MakeCredential.make(ek, ak.name(), secret, random);
        } catch (IllegalArgumentException e) {
            // An EK whose parameters MakeCredential cannot use (a symmetric scheme other than AES-CFB): its constant.
            throw new TpmAttestationException(Kind.REJECTED, e.getMessage(), e);
        }
        byte[] challenge = TpmServerProtos.challenge(credential.credentialBlob(), credential.encryptedSecret(), nonce,
                settings.pcrBank(), selection.pcrs());
        return new Pending(challenge, secret, nonce, ekHash, ak, enrollment, trustBasis,
                clock.instant().plus(settings.challengeTimeout()));
    }

    /**
     * Step 4: checks the agent's answer to {@code pending}'s challenge. The pending challenge is consumed whatever
     * the outcome.
     *
     * @param response a {@code TpmChallengeResponse}
     * @throws TpmAttestationException REJECTED for a used or expired challenge, a wrong secret, a quote that does not
     *     verify, an event log that does not match, or PCRs outside policy; INVALID_REQUEST for malformed input
     */
    public Attested finish(Pending pending, byte[] response) throws TpmAttestationException {
        Objects.requireNonNull(pending, "pending");
        byte[] secret = pending.claim(clock.instant());
        try {
            TpmServerProtos.Response answer = TpmServerProtos.parseResponse(response);
            try {
                if (!MessageDigest.isEqual(secret, answer.secret)) {
                    throw new TpmAttestationException(Kind.REJECTED, CREDENTIAL_NOT_ACTIVATED);
                }
            } finally {
                Arrays.fill(answer.secret, (byte) 0);
            }
            VerifiedQuote quote = verifyQuote(pending.ak, pending.nonce, answer.quote);
            SortedSet<String> policies = settings.pcrPolicies().evaluate(
                    pending.enrollment.flatMap(TpmEnrollment::pcrPolicy), quote.pcrValues(), Kind.REJECTED);
            return attested(pending.ekHash, pending.ak, pending.enrollment, policies, quote, pending.trustBasis);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /**
     * Continuous attestation, step 1 of a renewal: a fresh nonce and the PCR selection, for the AK bound at first
     * attestation.
     *
     * @param ekHash the node's EK hash (from its agent ID)
     * @param boundAkPublic the AK public area ({@link Attested#akPublic()}) stored when the node attested
     * @throws TpmAttestationException REJECTED with {@link #BOUND_AK_INVALID} when the stored AK no longer passes
     */
    public RenewalPending renewalChallenge(String ekHash, byte[] boundAkPublic) throws TpmAttestationException {
        String hash = EkHash.parse(ekHash);
        TpmPublic ak = boundAk(boundAkPublic);
        byte[] nonce = randomBytes(NONCE_BYTES);
        byte[] challenge = TpmServerProtos.renewalChallenge(nonce, settings.pcrBank(), selection.pcrs());
        return new RenewalPending(challenge, nonce, hash, ak, clock.instant().plus(settings.challengeTimeout()));
    }

    /**
     * Continuous attestation, step 2: the enrolment is read again (revoked: refused; missing: refused when the trust
     * mode requires enrolment), and the quote by the bound AK over the fresh nonce must verify, match the event log and
     * satisfy PCR policy. A verified quote whose PCRs left policy is refused with kind DRIFT.
     *
     * @param evidence a {@code TpmRenewalEvidence}
     */
    public Attested verifyRenewal(RenewalPending pending, byte[] evidence) throws TpmAttestationException {
        Objects.requireNonNull(pending, "pending");
        pending.claim(clock.instant());
        TpmServerProtos.Quote quote = TpmServerProtos.parseRenewalEvidence(evidence);
        Optional<TpmEnrollment> enrollment = lookUp(pending.ekHash);
        if (enrollment.isEmpty() && settings.ekTrust().requiresEnrollment()) {
            throw new TpmAttestationException(Kind.REJECTED, EK_NOT_ENROLLED);
        }
        VerifiedQuote verified = verifyQuote(pending.ak, pending.nonce, quote);
        SortedSet<String> policies = settings.pcrPolicies().evaluate(
                enrollment.flatMap(TpmEnrollment::pcrPolicy), verified.pcrValues(), Kind.DRIFT);
        return attested(pending.ekHash, pending.ak, enrollment, policies, verified, "renewal");
    }

    /**
     * Continuous attestation for callers that keep only the challenge bytes (the appliance's generic pending-challenge
     * store, which already makes each challenge single use and expiring): rebuilds the pending renewal from
     * {@code issuedChallenge}, a {@link RenewalPending#challenge()} this server issued, then verifies as
     * {@link #verifyRenewal(RenewalPending, byte[])} does.
     *
     * @param issuedChallenge the {@code TpmRenewalChallenge} bytes exactly as issued; never bytes from the agent
     * @throws TpmAttestationException REJECTED with {@link #RENEWAL_CHALLENGE_STALE} when the configured PCR
     *     selection changed since the challenge was issued
     */
    public Attested verifyRenewal(String ekHash, byte[] boundAkPublic, byte[] issuedChallenge, byte[] evidence)
            throws TpmAttestationException {
        String hash = EkHash.parse(ekHash);
        TpmPublic ak = boundAk(boundAkPublic);
        TpmServerProtos.IssuedRenewal issued = TpmServerProtos.parseIssuedRenewal(issuedChallenge);
        if (issued.bankId != settings.pcrBank().id() || !issued.pcrs.equals(selection.pcrs())) {
            throw new TpmAttestationException(Kind.REJECTED, RENEWAL_CHALLENGE_STALE);
        }
        return verifyRenewal(new RenewalPending(issuedChallenge.clone(), issued.nonce, hash, ak,
                clock.instant().plus(settings.challengeTimeout())), evidence);
    }

    /** The AK bound at attestation, re-checked: configuration or policy may have tightened since. */
    private TpmPublic boundAk(byte[] boundAkPublic) throws TpmAttestationException {
        ByteBuffer key = ByteBuffer.wrap(boundAkPublic.clone());
        TpmPublic ak;
        synchronized (parsedAks) {
            ak = parsedAks.get(key);
        }
        try {
            if (ak == null) {
                ak = TpmPublic.parse(key.array());
            }
            // Checked on every renewal, cached or not: the checks are cheap, and policy may tighten.
            AttestationKeyCheck.check(ak);
        } catch (TpmFormatException | TpmVerificationException e) {
            throw new TpmAttestationException(Kind.REJECTED, BOUND_AK_INVALID, e);
        }
        synchronized (parsedAks) {
            parsedAks.put(key, ak);
        }
        return ak;
    }

    /** The enrolment, if any; a revoked one refuses and an unreadable store fails closed. */
    private Optional<TpmEnrollment> lookUp(String ekHash) throws TpmAttestationException {
        Optional<TpmEnrollment> enrollment;
        try {
            enrollment = Objects.requireNonNull(enrollments.find(ekHash), "TpmEnrollments.find returned null");
        } catch (EnrollmentLookupException | RuntimeException e) {
            // Fail closed: without the store the server cannot know whether this TPM was revoked.
            throw new TpmAttestationException(Kind.UNAVAILABLE, ENROLLMENT_UNAVAILABLE, e);
        }
        if (enrollment.isPresent() && !enrollment.get().ekHash().equals(ekHash)) {
            throw new TpmAttestationException(Kind.UNAVAILABLE, ENROLLMENT_UNAVAILABLE,
                    new IllegalStateException("the enrolment store answered for another EK hash"));
        }
        if (enrollment.isPresent() && enrollment.get().revoked()) {
            throw new TpmAttestationException(Kind.REJECTED, ENROLLMENT_REVOKED);
        }
        return enrollment;
    }

    /**
     * Applies {@code ek_trust}. A certificate, when sent, must certify the EK presented in every mode; its chain is
     * checked when the mode uses certificates and the enrolment alone does not already suffice.
     *
     * @return how the EK was trusted, for the evidence line: {@code enrolled}, {@code ca} or {@code enrolled+ca}
     */
    private String decideEkTrust(TpmPublic ek, byte[] certificateDer, Optional<TpmEnrollment> enrollment)
            throws TpmAttestationException {
        Optional<X509Certificate> certificate = certificateDer.length == 0 ? Optional.empty()
                : Optional.of(EkCaStore.parseEkCertificate(certificateDer));
        if (certificate.isPresent() && !MessageDigest.isEqual(certificate.get().getPublicKey().getEncoded(),
                ek.publicKey().getEncoded())) {
            throw new TpmAttestationException(Kind.REJECTED, EkCaStore.EK_CERTIFICATE_KEY_MISMATCH);
        }
        boolean enrolled = enrollment.isPresent();
        switch (settings.ekTrust()) {
            case ENROLLED -> {
                if (!enrolled) {
                    throw new TpmAttestationException(Kind.REJECTED, EK_NOT_ENROLLED);
                }
                return "enrolled";
            }
            case CA -> {
                caStore.verify(certificate.orElseThrow(() -> new TpmAttestationException(Kind.REJECTED,
                        EK_CERTIFICATE_REQUIRED)), ek.publicKey());
                return "ca";
            }
            case EITHER -> {
                if (enrolled) {
                    return "enrolled";
                }
                if (certificate.isEmpty()) {
                    throw new TpmAttestationException(Kind.REJECTED, EK_NOT_TRUSTED);
                }
                caStore.verify(certificate.get(), ek.publicKey());
                return "ca";
            }
            case BOTH -> {
                if (!enrolled) {
                    throw new TpmAttestationException(Kind.REJECTED, EK_NOT_ENROLLED);
                }
                caStore.verify(certificate.orElseThrow(() -> new TpmAttestationException(Kind.REJECTED,
                        EK_CERTIFICATE_REQUIRED)), ek.publicKey());
                return "enrolled+ca";
            }
            default -> throw new IllegalStateException("unknown trust mode " + settings.ekTrust());
        }
    }

    private VerifiedQuote verifyQuote(TpmPublic ak, byte[] nonce, TpmServerProtos.Quote quote)
            throws TpmAttestationException {
        VerifiedQuote verified;
        try {
            verified = QuoteVerifier.verify(ak, quote.attest, quote.signature, nonce, selection, quote.pcrValues);
        } catch (TpmVerificationException e) {
            throw new TpmAttestationException(Kind.REJECTED, e.getMessage(), e);
        } catch (TpmFormatException e) {
            throw new TpmAttestationException(Kind.REJECTED, QUOTE_MALFORMED + ": " + e.getMessage(), e);
        }
        if (quote.eventLog.length > 0) {
            SortedSet<Integer> mismatched;
            try {
                // pcrDigest == H(PCR values) is established: now the log must account for those same values.
                mismatched = EventLog.parse(quote.eventLog).mismatchedPcrs(settings.pcrBank(), verified.pcrValues());
            } catch (TpmFormatException e) {
                throw new TpmAttestationException(Kind.REJECTED, EVENT_LOG_MALFORMED + ": " + e.getMessage(), e);
            }
            if (!mismatched.isEmpty()) {
                throw new TpmAttestationException(Kind.REJECTED, EVENT_LOG_MISMATCH + ": PCR "
                        + mismatched.stream().map(String::valueOf).collect(Collectors.joining(", ")));
            }
        }
        return verified;
    }

    private Attested attested(String ekHash, TpmPublic ak, Optional<TpmEnrollment> enrollment,
            SortedSet<String> policies, VerifiedQuote quote, String trustBasis) {
        List<String> selectors = new ArrayList<>();
        selectors.add("pub_hash:" + ekHash);
        enrollment.ifPresent(e -> e.labels().forEach((k, v) -> selectors.add("label:" + k + ":" + v)));
        policies.forEach(p -> selectors.add("pcr_policy:" + p));
        HexFormat hex = HexFormat.of();
        String pcrDigest = hex.formatHex(quote.attest().pcrDigest());
        String evidence = "ek_hash=" + ekHash + " trust=" + trustBasis + " ak_name=" + hex.formatHex(ak.name())
                + " pcr_bank=" + settings.pcrBank().configName() + " pcrs=" + selection.pcrs().stream()
                        .map(String::valueOf).collect(Collectors.joining(","))
                + " pcr_digest=" + pcrDigest + " pcr_policies=" + String.join(",", policies);
        return new Attested(ekHash, ak.encoded(), selectors, policies, pcrDigest, evidence);
    }

    private static TpmPublic parsePublic(byte[] bytes, String message) throws TpmAttestationException {
        try {
            return TpmPublic.parse(bytes);
        } catch (TpmFormatException e) {
            throw new TpmAttestationException(Kind.INVALID_REQUEST, message + ": " + e.getMessage(), e);
        }
    }

    private byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    /**
     * One attestation between {@link #begin} and {@link #finish}: the challenge to send, and the server's private
     * state (the credential secret, the nonce, the checked AK, the enrolment read). Single use; expires. Not a record:
     * it holds a secret, which {@link #toString()} never shows and {@link #finish} wipes.
     */
    public static final class Pending {
        private final byte[] challenge;
        private final byte[] secret;
        private final byte[] nonce;
        private final String ekHash;
        private final TpmPublic ak;
        private final Optional<TpmEnrollment> enrollment;
        private final String trustBasis;
        private final Instant expiresAt;
        private final AtomicBoolean used = new AtomicBoolean();

        private Pending(byte[] challenge, byte[] secret, byte[] nonce, String ekHash, TpmPublic ak,
                Optional<TpmEnrollment> enrollment, String trustBasis, Instant expiresAt) {
            this.challenge = challenge;
            this.secret = secret;
            this.nonce = nonce;
            this.ekHash = ekHash;
            this.ak = ak;
            this.enrollment = enrollment;
            this.trustBasis = trustBasis;
            this.expiresAt = expiresAt;
        }

        /** The {@code TpmChallenge} to send to the agent (a copy). */
        public byte[] challenge() {
            return challenge.clone();
        }

        /** The EK hash the agent presented and the server trusted. */
        public String ekHash() {
            return ekHash;
        }

        public Instant expiresAt() {
            return expiresAt;
        }

        /** Marks this challenge answered and hands over the secret; refuses a second use or a late answer. */
        private byte[] claim(Instant now) throws TpmAttestationException {
            if (!used.compareAndSet(false, true)) {
                throw new TpmAttestationException(Kind.REJECTED, CHALLENGE_USED);
            }
            if (now.isAfter(expiresAt)) {
                Arrays.fill(secret, (byte) 0);
                throw new TpmAttestationException(Kind.REJECTED, CHALLENGE_EXPIRED);
            }
            return secret;
        }

        @Override
        public String toString() {
            return "TpmServerAttestor.Pending[ek_hash=" + ekHash + ", expires=" + expiresAt + ", used=" + used.get()
                    + "]";
        }
    }

    /** One renewal between {@link #renewalChallenge} and {@link #verifyRenewal}: single use; expires. */
    public static final class RenewalPending {
        private final byte[] challenge;
        private final byte[] nonce;
        private final String ekHash;
        private final TpmPublic ak;
        private final Instant expiresAt;
        private final AtomicBoolean used = new AtomicBoolean();

        private RenewalPending(byte[] challenge, byte[] nonce, String ekHash, TpmPublic ak, Instant expiresAt) {
            this.challenge = challenge;
            this.nonce = nonce;
            this.ekHash = ekHash;
            this.ak = ak;
            this.expiresAt = expiresAt;
        }

        /** The {@code TpmRenewalChallenge} to send to the agent (a copy). */
        public byte[] challenge() {
            return challenge.clone();
        }

        public String ekHash() {
            return ekHash;
        }

        public Instant expiresAt() {
            return expiresAt;
        }

        private void claim(Instant now) throws TpmAttestationException {
            if (!used.compareAndSet(false, true)) {
                throw new TpmAttestationException(Kind.REJECTED, CHALLENGE_USED);
            }
            if (now.isAfter(expiresAt)) {
                throw new TpmAttestationException(Kind.REJECTED, CHALLENGE_EXPIRED);
            }
        }

        @Override
        public String toString() {
            return "TpmServerAttestor.RenewalPending[ek_hash=" + ekHash + ", expires=" + expiresAt + ", used="
                    + used.get() + "]";
        }
    }

    /**
     * A TPM node that proved itself: its EK hash (the agent ID's last segment), the AK public area to bind for
     * continuous attestation, the selector values ({@code pub_hash:<h>}, {@code label:<k>:<v>},
     * {@code pcr_policy:<name>}; the catalog adds the {@code tpm} type), the policies matched, and a log-safe evidence
     * line for the audit log.
     */
    public static final class Attested {
        private final String ekHash;
        private final byte[] akPublic;
        private final List<String> selectorValues;
        private final SortedSet<String> pcrPolicies;
        private final String pcrDigest;
        private final String evidence;

        Attested(String ekHash, byte[] akPublic, List<String> selectorValues, SortedSet<String> pcrPolicies,
                String pcrDigest, String evidence) {
            this.ekHash = ekHash;
            this.akPublic = akPublic.clone();
            this.selectorValues = List.copyOf(selectorValues);
            this.pcrPolicies = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(pcrPolicies));
            this.pcrDigest = pcrDigest;
            this.evidence = evidence;
        }

        public String ekHash() {
            return ekHash;
        }

        /** The AK's TPMT_PUBLIC, to store and pass to {@link #renewalChallenge} (a copy). */
        public byte[] akPublic() {
            return akPublic.clone();
        }

        public List<String> selectorValues() {
            return selectorValues;
        }

        public SortedSet<String> pcrPolicies() {
            return pcrPolicies;
        }

        /** Lowercase hex of the quote's pcrDigest. */
        public String pcrDigest() {
            return pcrDigest;
        }

        /** EK hash, trust basis, AK name, PCR bank, selection, pcrDigest and policies: no secret, safe to log. */
        public String evidence() {
            return evidence;
        }

        @Override
        public String toString() {
            return "TpmServerAttestor.Attested[" + evidence + "]";
        }
    }
}
