package dev.bourne.agent.sync;

import java.util.Objects;

/**
 * One X.509-SVID to mint: the entry it is for and a CSR for a key the agent generated.
 *
 * @param entryId the entry
 * @param csr DER PKCS#10 request
 */
public record SvidRequest(String entryId, byte[] csr) {
    public SvidRequest {
        Objects.requireNonNull(entryId, "entryId");
        csr = csr.clone();
    }

    @Override
    public byte[] csr() {
        return csr.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SvidRequest r && r.entryId.equals(entryId) && java.util.Arrays.equals(r.csr, csr);
    }

    @Override
    public int hashCode() {
        return entryId.hashCode() * 31 + java.util.Arrays.hashCode(csr);
    }

    @Override
    public String toString() {
        return "SvidRequest[" + entryId + ", " + csr.length + " bytes]";
    }
}
