package dev.bourne.agent.workloadapi;

/**
 * The private key of a workload's X.509-SVID as PKCS#8 DER, the form the Workload API hands it to its workload
 * ({@code X509SVID.x509_svid_key}).
 *
 * <p>The agent generates these keys itself, for the workload, which by the protocol receives the key: it is not an
 * agent or CA key, and it never exists here as a JCA {@code PrivateKey}. Identity equality and a redacted
 * {@code toString}, so a key never lands in a log or a comparison by content.
 */
public final class WorkloadKey {
    private final byte[] pkcs8;

    /** @param pkcs8 the PKCS#8 {@code PrivateKeyInfo} DER; copied */
    public WorkloadKey(byte[] pkcs8) {
        if (pkcs8 == null || pkcs8.length == 0) {
            throw new IllegalArgumentException("a workload key needs its PKCS#8 encoding");
        }
        this.pkcs8 = pkcs8.clone();
    }

    /** A copy of the PKCS#8 DER, for the response to the workload that owns the key. */
    public byte[] pkcs8() {
        return pkcs8.clone();
    }

    @Override
    public String toString() {
        return "WorkloadKey[redacted]";
    }
}
