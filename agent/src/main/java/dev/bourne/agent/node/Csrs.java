package dev.bourne.agent.node;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import dev.bourne.agent.workloadapi.WorkloadKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * PKCS#10 certificate signing requests for agent and workload keys. The subject is empty: the server decides the
 * SPIFFE ID (from attestation or from the entry), so nothing in the request can choose it.
 */
public final class Csrs {
    private Csrs() {
    }

    /** A DER CSR for {@code publicKey}, proving possession with {@code privateKey} (PKCS#8). */
    public static byte[] create(PublicKey publicKey, WorkloadKey privateKey) {
        try {
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(privateKey.pkcs8()));
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaPKCS10CertificationRequestBuilder(new X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                    publicKey).build(signer).getEncoded();
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot build a certificate request for a generated P-256 key", e);
        }
    }
}
