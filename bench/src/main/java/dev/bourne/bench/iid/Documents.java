package dev.bourne.bench.iid;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.impl.ECDSA;
import dev.bourne.openstack.vendordata.IidSigner;
import dev.bourne.openstack.vendordata.SignedIid;
import dev.bourne.openstack.vendordata.VendordataRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Instance identity documents signed ahead of time, as the signing service writes them ({@link IidSigner}), for the
 * server measurements: every attestation consumes its document's {@code jti}, so each needs a fresh document.
 * {@link #next()} hands them out in order and signs a new batch when the current one is used up, or when it is half
 * way to its expiry (so no document is refused as expired however long a slice runs); a measurement calls it before
 * it starts its clock, so signing is never counted.
 *
 * <p>The first batch is also kept as the limit's input: each document's signing input (the bytes the JWS signature
 * covers, as sent) and its signature in the DER form JCA verifies.
 */
final class Documents {
    /** The test instance Nova describes: a realistic size (image, hostname, a few metadata items). */
    static final String PROJECT = "039d104b7a5c4631b4ba6524d0b9e981";
    static final String INSTANCE = "4d9e8b4a-2b22-4b93-a9a4-6a3e2f2f0b11";
    static final String IMAGE = "b5a8c4c2-7e0f-4a0c-9a55-0f2f6c7d8e91";
    static final String HOSTNAME = "web-1";

    private static final Base64.Decoder BASE64URL = Base64.getUrlDecoder();

    private final IidSigner signer;
    private final Duration documentTtl;
    private final Clock clock;
    private final int batchSize;
    private final byte[][] signingInputs;
    private final byte[][] derSignatures;
    private byte[][] batch;
    private Instant batchRefresh;
    private int next;
    private long signed;

    /**
     * @param signer signs every document (its key's public JWK is in the server's JWK set file)
     * @param documentTtl the signer's document lifetime
     * @param batchSize documents signed at once
     */
    Documents(IidSigner signer, Duration documentTtl, Clock clock, int batchSize) throws Exception {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1");
        }
        this.signer = Objects.requireNonNull(signer, "signer");
        this.documentTtl = documentTtl;
        this.clock = clock;
        this.batchSize = batchSize;
        refill();
        signingInputs = new byte[batchSize][];
        derSignatures = new byte[batchSize][];
        for (int i = 0; i < batchSize; i++) {
            byte[] jws = batch[i];
            int lastDot = lastDot(jws);
            signingInputs[i] = java.util.Arrays.copyOf(jws, lastDot);
            byte[] concat = BASE64URL.decode(java.util.Arrays.copyOfRange(jws, lastDot + 1, jws.length));
            try {
                derSignatures[i] = ECDSA.transcodeSignatureToDER(concat);
            } catch (JOSEException e) {
                throw new IllegalStateException("the signer wrote a malformed ES256 signature", e);
            }
        }
    }

    /** What Nova asks the signing service for this benchmark's instance. */
    static VendordataRequest request() {
        SortedMap<String, String> metadata = new TreeMap<>();
        metadata.put("role", "web");
        metadata.put("tier", "frontend");
        metadata.put("owner", "team-a");
        return new VendordataRequest(PROJECT, INSTANCE, IMAGE, HOSTNAME, metadata);
    }

    /** The next unused document, as the agent sends it (the compact JWS as UTF-8 bytes). */
    byte[] next() throws Exception {
        if (next == batch.length || !clock.instant().isBefore(batchRefresh)) {
            refill();
        }
        return batch[next++];
    }

    /** Signing input {@code i} (mod the first batch) of the limit: the JWS's first two parts, ASCII. */
    byte[] signingInput(int i) {
        return signingInputs[i % signingInputs.length];
    }

    /** The DER form of signature {@code i} (mod the first batch). */
    byte[] derSignature(int i) {
        return derSignatures[i % derSignatures.length];
    }

    /** Documents signed so far. */
    long signed() {
        return signed;
    }

    private void refill() throws Exception {
        Instant started = clock.instant();
        VendordataRequest request = request();
        byte[][] fresh = new byte[batchSize][];
        for (int i = 0; i < batchSize; i++) {
            SignedIid document = signer.sign(request);
            fresh[i] = document.jws().getBytes(StandardCharsets.US_ASCII);
        }
        signed += batchSize;
        batch = fresh;
        next = 0;
        batchRefresh = started.plus(documentTtl.dividedBy(2));
    }

    private static int lastDot(byte[] jws) {
        for (int i = jws.length - 1; i >= 0; i--) {
            if (jws[i] == '.') {
                return i;
            }
        }
        throw new IllegalStateException("not a compact JWS");
    }
}
