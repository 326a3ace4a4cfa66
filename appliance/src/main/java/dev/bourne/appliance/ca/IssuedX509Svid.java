package dev.bourne.appliance.ca;

import dev.bourne.core.spiffeid.SpiffeId;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An X.509-SVID the CA just signed, in the forms its consumers need without re-encoding: the leaf DER, the chain as a
 * list of DER certificates and as one concatenated DER blob (the Workload API's {@code x509_svid} field, leaf first),
 * with serial and validity at hand. The {@link X509Certificate} is parsed only when asked for.
 *
 * <p>Not a record: it holds byte arrays, which are copied on the way out.
 */
public final class IssuedX509Svid {
    private final SpiffeId spiffeId;
    private final byte[] serial;
    private final Instant notBefore;
    private final Instant notAfter;
    private final byte[] leaf;
    private final List<byte[]> intermediates;
    private final List<X509Certificate> intermediateCertificates;
    private volatile X509Certificate certificate;

    IssuedX509Svid(SpiffeId spiffeId, byte[] serial, Instant notBefore, Instant notAfter, byte[] leaf,
            List<byte[]> intermediates, List<X509Certificate> intermediateCertificates) {
        this.spiffeId = spiffeId;
        this.serial = serial;
        this.notBefore = notBefore;
        this.notAfter = notAfter;
        this.leaf = leaf;
        this.intermediates = intermediates;
        this.intermediateCertificates = intermediateCertificates;
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    /** The certificate's serial number (positive, 128 random bits). */
    public BigInteger serialNumber() {
        return new BigInteger(1, serial);
    }

    public Instant notBefore() {
        return notBefore;
    }

    public Instant notAfter() {
        return notAfter;
    }

    /** The leaf certificate, DER. */
    public byte[] leafDer() {
        return leaf.clone();
    }

    /** The leaf then the CA's {@link X509Authority#intermediates() intermediates}, each DER. */
    public List<byte[]> chainDer() {
        List<byte[]> chain = new ArrayList<>(1 + intermediates.size());
        chain.add(leaf.clone());
        for (byte[] intermediate : intermediates) {
            chain.add(intermediate.clone());
        }
        return chain;
    }

    /** The chain's DER certificates concatenated, leaf first: the Workload API's form. */
    public byte[] chainDerConcatenated() {
        int length = leaf.length;
        for (byte[] intermediate : intermediates) {
            length += intermediate.length;
        }
        byte[] out = new byte[length];
        System.arraycopy(leaf, 0, out, 0, leaf.length);
        int pos = leaf.length;
        for (byte[] intermediate : intermediates) {
            System.arraycopy(intermediate, 0, out, pos, intermediate.length);
            pos += intermediate.length;
        }
        return out;
    }

    /** The leaf as a JDK certificate, parsed on first use. */
    public X509Certificate certificate() {
        X509Certificate parsed = certificate;
        if (parsed == null) {
            try {
                parsed = (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(leaf));
            } catch (CertificateException e) {
                // The issuer wrote these bytes itself; a JDK that cannot read them is a defect, not bad input.
                throw new IllegalStateException("the JDK cannot parse an issued SVID certificate", e);
            }
            certificate = parsed;
        }
        return parsed;
    }

    /** The leaf and its intermediates as JDK certificates. */
    public List<X509Certificate> chain() {
        List<X509Certificate> chain = new ArrayList<>(1 + intermediateCertificates.size());
        chain.add(certificate());
        chain.addAll(intermediateCertificates);
        return List.copyOf(chain);
    }

    @Override
    public String toString() {
        return "IssuedX509Svid{" + spiffeId + ", serial " + serialNumber().toString(16) + ", until " + notAfter + "}";
    }
}
