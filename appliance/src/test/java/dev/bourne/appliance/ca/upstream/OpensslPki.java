package dev.bourne.appliance.ca.upstream;

import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An operator's PKI made with the openssl command line, the way operators make theirs: root, intermediate and leaf
 * certificates with PEM keys in files, so the disk upstream reads real operator files.
 */
final class OpensslPki {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final Path dir;

    OpensslPki(Path dir) {
        this.dir = dir;
    }

    /** A PEM certificate and key path pair. */
    record Issued(Path cert, Path key) {
    }

    Path dir() {
        return dir;
    }

    /** A new EC P-256 key (PKCS#8 PEM, mode 0600). */
    Path key(String name) throws IOException {
        Path key = dir.resolve(name + ".key");
        run(List.of("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                key.toString()));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        return key;
    }

    /** A self-signed CA certificate valid for {@code days} days. */
    Issued root(String name, int days) throws IOException {
        Path key = key(name);
        Path cert = dir.resolve(name + ".pem");
        run(List.of("openssl", "req", "-x509", "-new", "-key", key.toString(), "-out", cert.toString(),
                "-subj", "/O=Upstream Corp/CN=" + name, "-days", Integer.toString(days),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash"));
        return new Issued(cert, key);
    }

    /** A certificate for a new key signed by {@code issuer}: a CA when {@code ca}, else a plain leaf. */
    Issued issue(Issued issuer, String name, int days, boolean ca) throws IOException {
        Path key = key(name);
        Path csr = dir.resolve(name + ".csr");
        Path cert = dir.resolve(name + ".pem");
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, ca
                ? "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                        + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                : "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n");
        run(List.of("openssl", "req", "-new", "-key", key.toString(), "-out", csr.toString(),
                "-subj", "/O=Upstream Corp/CN=" + name));
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", issuer.cert().toString(),
                "-CAkey", issuer.key().toString(), "-CAcreateserial", "-out", cert.toString(),
                "-days", Integer.toString(days), "-extfile", ext.toString()));
        return new Issued(cert, key);
    }

    /** Concatenates PEM files into one. */
    Path concat(String name, Path... files) throws IOException {
        List<String> parts = new ArrayList<>();
        for (Path file : files) {
            parts.add(Files.readString(file));
        }
        return Files.writeString(dir.resolve(name), String.join("", parts));
    }

    private static void run(List<String> command) {
        Exec.run(command, Map.of(), TIMEOUT).requireSuccess();
    }
}
