package dev.bourne.appliance.cli;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.MintJWTSVIDRequest;
import dev.bourne.api.v1.MintJWTSVIDResponse;
import dev.bourne.api.v1.MintX509SVIDRequest;
import dev.bourne.api.v1.MintX509SVIDResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bourne-server x509 mint} and {@code jwt mint}: SVIDs for any ID of the trust domain, without an entry. */
final class MintCommands {
    static final String SPIFFE_ID_REQUIRED = "-spiffeID is required";
    static final String AUDIENCE_REQUIRED = "at least one -audience is required";
    static final String TTL_TOO_LONG = "-ttl must be at most 2147483647 seconds";
    static final String SVID_FILE = "svid.pem";
    static final String KEY_FILE = "key.pem";
    static final String BUNDLE_FILE = "bundle.pem";
    static final String TOKEN_FILE = "token";

    private MintCommands() {
    }

    @Command(name = "x509", description = "X.509-SVIDs", subcommands = X509.Mint.class)
    static final class X509 {
        @Command(name = "mint", description = "Mint an X.509-SVID: the key is generated here and never sent")
        static final class Mint extends AdminCommand {
            @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class,
                    description = "The SVID's SPIFFE ID")
            SpiffeId spiffeId;

            @Option(names = "-ttl", paramLabel = "TTL", converter = Flags.Ttl.class,
                    description = "Lifetime (seconds or a duration such as 1h); default: the server's")
            Duration ttl;

            @Option(names = "-dns", paramLabel = "NAME", description = "A DNS SAN (repeatable)")
            List<String> dnsNames = new ArrayList<>();

            @Option(names = "-write", paramLabel = "DIR",
                    description = "Write svid.pem, key.pem (mode 0600) and bundle.pem into DIR instead of printing")
            Path write;

            @Override
            void check() {
                if (spiffeId == null) {
                    throw usage(SPIFFE_ID_REQUIRED);
                }
                if (ttl != null && ttl.getSeconds() > Integer.MAX_VALUE) {
                    throw usage(TTL_TOO_LONG);
                }
            }

            @Override
            int run(AdminClient client, PrintWriter out) throws Exception {
                KeyPair key = generateKey();
                MintX509SVIDResponse response = client.svids().mintX509SVID(MintX509SVIDRequest.newBuilder()
                        .setCsr(ByteString.copyFrom(csr(key, spiffeId, dnsNames)))
                        .setTtl(ttl == null ? 0 : (int) ttl.getSeconds()).build());
                TrustBundle bundle = client.bundles().getBundle(GetBundleRequest.getDefaultInstance());
                StringBuilder chain = new StringBuilder();
                response.getSvid().getCertChainList()
                        .forEach(der -> chain.append(BundleFormats.pemBlock("CERTIFICATE", der.toByteArray())));
                String keyPem = privateKeyPem(key);
                String bundlePem = BundleFormats.pem(bundle);
                if (write != null) {
                    Files.createDirectories(write);
                    Path svidPath = write.resolve(SVID_FILE);
                    Path keyPath = write.resolve(KEY_FILE);
                    Path bundlePath = write.resolve(BUNDLE_FILE);
                    writeFile(svidPath, chain.toString(), "rw-r--r--");
                    // The private key file is created 0600 before any byte is written.
                    writeFile(keyPath, keyPem, "rw-------");
                    writeFile(bundlePath, bundlePem, "rw-r--r--");
                    out.println("X509-SVID written to " + svidPath);
                    out.println("Private key written to " + keyPath);
                    out.println("Root CAs written to " + bundlePath);
                } else if (json()) {
                    out.println(json(response));
                } else {
                    out.println("X509-SVID:");
                    out.print(chain);
                    out.println();
                    out.println("Private key:");
                    out.print(keyPem);
                    out.println();
                    out.println("Root CAs:");
                    out.print(bundlePem);
                }
                return ServerCli.OK;
            }
        }
    }

    static KeyPair generateKey() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return generator.generateKeyPair();
    }

    static byte[] csr(KeyPair key, SpiffeId id, List<String> dnsNames) throws IOException, OperatorCreationException {
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()));
        dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(names.toArray(new GeneralName[0])));
        return new JcaPKCS10CertificationRequestBuilder(new X500Principal("O=SPIFFE"), key.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
                .getEncoded();
    }

    /**
     * The minted SVID's own key, generated in this process for the operator who asked for it (as SPIRE's
     * {@code x509 mint}); it never existed in the key manager.
     */
    static String privateKeyPem(KeyPair key) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key.getPrivate(), null));
        }
        return text.toString();
    }

    static void writeFile(Path path, String content, String mode) throws IOException {
        Files.deleteIfExists(path);
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        Files.writeString(path, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    }

    @Command(name = "jwt", description = "JWT-SVIDs", subcommands = Jwt.Mint.class)
    static final class Jwt {
        @Command(name = "mint", description = "Mint a JWT-SVID")
        static final class Mint extends AdminCommand {
            @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class,
                    description = "The JWT-SVID's subject")
            SpiffeId spiffeId;

            @Option(names = "-audience", paramLabel = "AUDIENCE", description = "An audience (repeatable)")
            List<String> audience = new ArrayList<>();

            @Option(names = "-ttl", paramLabel = "TTL", converter = Flags.Ttl.class,
                    description = "Lifetime (seconds or a duration such as 5m); default: the server's")
            Duration ttl;

            @Option(names = "-write", paramLabel = "FILE", description = "Write the token to FILE (mode 0600)")
            Path write;

            @Override
            void check() {
                if (spiffeId == null) {
                    throw usage(SPIFFE_ID_REQUIRED);
                }
                if (audience.isEmpty()) {
                    throw usage(AUDIENCE_REQUIRED);
                }
                if (ttl != null && ttl.getSeconds() > Integer.MAX_VALUE) {
                    throw usage(TTL_TOO_LONG);
                }
            }

            @Override
            int run(AdminClient client, PrintWriter out) throws IOException {
                MintJWTSVIDResponse response = client.svids().mintJWTSVID(MintJWTSVIDRequest.newBuilder()
                        .setId(spiffeId.toString()).addAllAudience(audience)
                        .setTtl(ttl == null ? 0 : (int) ttl.getSeconds()).build());
                if (write != null) {
                    // A bearer token: readable by its owner only.
                    writeFile(write, response.getSvid().getToken() + "\n", "rw-------");
                    out.println("JWT-SVID written to " + write);
                } else if (json()) {
                    out.println(json(response));
                } else {
                    out.println(response.getSvid().getToken());
                }
                return ServerCli.OK;
            }
        }
    }
}
