package dev.bourne.agent.cli;

import com.google.protobuf.ByteString;
import dev.bourne.agent.files.PemFiles;
import dev.bourne.workload.v1.X509SVID;
import dev.bourne.workload.v1.X509SVIDResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a Workload API X.509 response as PEM files for consumers that read files (nginx, HAProxy), in SPIRE's
 * layout: for SVID {@code i}, {@code svid.i.pem} (leaf first), {@code svid.i.key} (PKCS#8, mode 0600),
 * {@code bundle.i.pem}, and {@code federated_bundle.i.j.pem} for each federated bundle in trust-domain order.
 */
public final class SvidFiles {
    public static final String NO_SVIDS = "the response holds no X.509-SVID";
    public static final String BAD_CERTIFICATES = "the agent sent certificates that cannot be parsed";

    private SvidFiles() {
    }

    /** Writes the files into {@code dir} (which must exist) and returns their paths in writing order. */
    public static List<Path> write(Path dir, X509SVIDResponse response) throws CliException, IOException {
        if (response.getSvidsCount() == 0) {
            throw new CliException(NO_SVIDS);
        }
        if (!Files.isDirectory(dir)) {
            throw new CliException("-write " + dir + " is not a directory");
        }
        List<Path> written = new ArrayList<>();
        Map<String, ByteString> federated = new TreeMap<>(response.getFederatedBundlesMap());
        for (int i = 0; i < response.getSvidsCount(); i++) {
            X509SVID svid = response.getSvids(i);
            written.add(PemFiles.write(dir.resolve("svid." + i + ".pem"), pem(certificates(svid.getX509Svid())),
                    PemFiles.PUBLIC_MODE));
            // The key arrives as PKCS#8 DER from the agent and is written as it came: never parsed into a JCA key.
            written.add(PemFiles.write(dir.resolve("svid." + i + ".key"),
                    pemBlock("PRIVATE KEY", svid.getX509SvidKey().toByteArray()), PemFiles.KEY_MODE));
            written.add(PemFiles.write(dir.resolve("bundle." + i + ".pem"), pem(certificates(svid.getBundle())),
                    PemFiles.PUBLIC_MODE));
            int j = 0;
            for (ByteString bundle : federated.values()) {
                written.add(PemFiles.write(dir.resolve("federated_bundle." + i + "." + j + ".pem"),
                        pem(certificates(bundle)), PemFiles.PUBLIC_MODE));
                j++;
            }
        }
        return written;
    }

    /** Parses concatenated DER certificates as the Workload API sends them. */
    static List<X509Certificate> certificates(ByteString der) throws CliException {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> certs = new ArrayList<>();
            for (var cert : factory.generateCertificates(new ByteArrayInputStream(der.toByteArray()))) {
                certs.add((X509Certificate) cert);
            }
            return certs;
        } catch (CertificateException | ClassCastException e) {
            throw new CliException(BAD_CERTIFICATES, e);
        }
    }

    static byte[] pem(List<X509Certificate> certs) throws CliException {
        StringBuilder out = new StringBuilder();
        for (X509Certificate cert : certs) {
            try {
                out.append(new String(pemBlock("CERTIFICATE", cert.getEncoded()), StandardCharsets.US_ASCII));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new CliException(BAD_CERTIFICATES, e);
            }
        }
        return out.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] pemBlock(String type, byte[] der) {
        return PemFiles.pem(type, der).getBytes(StandardCharsets.US_ASCII);
    }
}
