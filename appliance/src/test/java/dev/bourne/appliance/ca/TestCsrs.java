package dev.bourne.appliance.ca;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.AlgorithmParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** PKCS#10 requests built in test code, well-formed or with one chosen defect. */
final class TestCsrs {
    static final BouncyCastleProvider BC = new BouncyCastleProvider();

    private final KeyPair keys;
    private String signatureAlgorithm;
    private final List<GeneralName> sans = new ArrayList<>();
    private Boolean ca;

    private TestCsrs(KeyPair keys, String signatureAlgorithm) {
        this.keys = keys;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    static TestCsrs forKeys(KeyPair keys) {
        String algorithm = switch (keys.getPublic().getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "DSA" -> "SHA256withDSA";
            default -> throw new IllegalArgumentException(keys.getPublic().getAlgorithm());
        };
        return new TestCsrs(keys, algorithm);
    }

    static KeyPair generate(String algorithm, AlgorithmParameterSpec spec) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm, BC);
        if (spec != null) {
            generator.initialize(spec);
        }
        return generator.generateKeyPair();
    }

    static KeyPair generate(String algorithm, int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm, BC);
        generator.initialize(bits);
        return generator.generateKeyPair();
    }

    TestCsrs signedWith(String algorithm) {
        this.signatureAlgorithm = algorithm;
        return this;
    }

    TestCsrs uri(String uri) {
        sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
        return this;
    }

    TestCsrs dns(String name) {
        sans.add(new GeneralName(GeneralName.dNSName, name));
        return this;
    }

    TestCsrs basicConstraints(boolean isCa) {
        this.ca = isCa;
        return this;
    }

    byte[] der() throws Exception {
        PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
                new X500Name("CN=requested subject is ignored"), keys.getPublic());
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        if (!sans.isEmpty()) {
            extensions.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        if (ca != null) {
            extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        }
        if (!extensions.isEmpty()) {
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
        }
        return builder.build(new JcaContentSignerBuilder(signatureAlgorithm).setProvider(BC)
                .build(keys.getPrivate())).getEncoded();
    }
}
