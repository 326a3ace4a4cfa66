package dev.bourne.openstack.vendordata;

import com.sun.net.httpserver.Headers;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Decides whether a signing request comes from Nova: it must carry the configured token (Nova's
 * {@code [vendordata_dynamic_auth]} session with {@code auth_type = admin_token} sends it as {@code X-Auth-Token};
 * {@code Authorization: Bearer} is accepted too), and, when {@code client_ca_file} is set, its connection must have
 * presented a client certificate that chained to those CAs during the handshake. When both are configured, both are
 * required: each is a separate secret an attacker would need.
 *
 * <p>Only the SHA-256 digest of the token is kept, and a presented token is compared by its digest with
 * {@link MessageDigest#isEqual} (constant time in the digest length), so neither the token's content nor its length
 * leaks through timing. The token file must not be readable by others nor writable by its group (mode 0600 or 0640).
 */
public final class CallerAuthenticator {
    /** Shortest token accepted: 128 bits of hex; a short token can be guessed over the network. */
    public static final int MIN_TOKEN_CHARS = 32;
    /** The longest token accepted, well inside an HTTP header. */
    public static final int MAX_TOKEN_CHARS = 4096;
    public static final String X_AUTH_TOKEN = "X-Auth-Token";
    public static final String AUTHORIZATION = "Authorization";
    public static final String REALM = "bourne-vendordata";

    public static final String TOKEN_TOO_SHORT = "the token is shorter than " + MIN_TOKEN_CHARS + " characters; "
            + "make one with: openssl rand -hex 32";
    public static final String TOKEN_TOO_LONG = "the token is longer than " + MAX_TOKEN_CHARS + " characters";
    public static final String TOKEN_CHARACTERS = "the token may contain only visible ASCII characters (no spaces); "
            + "one trailing newline is ignored";

    /** Why a request was refused, for the log; never the token itself. */
    public enum Refusal {
        NO_CREDENTIALS("no token and no client certificate"),
        NO_TOKEN("no token"),
        MALFORMED_TOKEN("a token header that is repeated or not a Bearer token"),
        WRONG_TOKEN("a wrong token"),
        NO_CLIENT_CERTIFICATE("no client certificate");

        private final String description;

        Refusal(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** The outcome for one request: the caller as the audit log names it, or why it was refused. */
    public record Verdict(Optional<String> caller, Optional<Refusal> refusal) {
        public Verdict {
            Objects.requireNonNull(caller, "caller");
            Objects.requireNonNull(refusal, "refusal");
            if (caller.isPresent() == refusal.isPresent()) {
                throw new IllegalArgumentException("a verdict names a caller or a refusal");
            }
        }

        static Verdict accepted(String caller) {
            return new Verdict(Optional.of(caller), Optional.empty());
        }

        static Verdict refused(Refusal refusal) {
            return new Verdict(Optional.empty(), Optional.of(refusal));
        }

        public boolean authenticated() {
            return caller.isPresent();
        }
    }

    private final byte[] tokenDigest;
    private final boolean requiresClientCertificate;

    private CallerAuthenticator(byte[] tokenDigest, boolean requiresClientCertificate) {
        this.tokenDigest = tokenDigest;
        this.requiresClientCertificate = requiresClientCertificate;
    }

    /**
     * The authenticator the settings describe: the token from {@code auth_token_file} (checked: a secret file, of
     * {@value #MIN_TOKEN_CHARS} to {@value #MAX_TOKEN_CHARS} visible ASCII characters) and the client certificate
     * requirement from {@code client_ca_file}.
     */
    public static ConfigResult<CallerAuthenticator> load(VendordataSettings settings, Path configFile) {
        Objects.requireNonNull(settings, "settings");
        byte[] digest = null;
        if (settings.authTokenFile().isPresent()) {
            Path file = settings.authTokenFile().get();
            byte[] bytes = null;
            try {
                bytes = PemFiles.read(file, true);
                digest = digest(checkedToken(bytes));
            } catch (PemFiles.Unusable e) {
                return new ConfigResult.Invalid<>(List.of(new ConfigError(configFile.toString(),
                        VendordataSettings.BLOCK + "." + VendordataSettings.AUTH_TOKEN_FILE,
                        file + ": " + e.getMessage())));
            } finally {
                if (bytes != null) {
                    Arrays.fill(bytes, (byte) 0);
                }
            }
        }
        return new ConfigResult.Valid<>(new CallerAuthenticator(digest, settings.clientCaFile().isPresent()),
                List.of());
    }

    /**
     * An authenticator for {@code token} (absent: no token required) and, with {@code requireClientCertificate}, a
     * verified client certificate.
     */
    public static CallerAuthenticator of(Optional<String> token, boolean requireClientCertificate) {
        Objects.requireNonNull(token, "token");
        if (token.isEmpty() && !requireClientCertificate) {
            throw new IllegalArgumentException("a signing service must require a token or a client certificate");
        }
        try {
            return new CallerAuthenticator(token.isPresent()
                    ? digest(checkedToken(token.get().getBytes(StandardCharsets.UTF_8))) : null,
                    requireClientCertificate);
        } catch (PemFiles.Unusable e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** Whether a token is required. */
    public boolean requiresToken() {
        return tokenDigest != null;
    }

    /** Whether a verified client certificate is required. */
    public boolean requiresClientCertificate() {
        return requiresClientCertificate;
    }

    /** The {@code WWW-Authenticate} value of a 401 answer. */
    public String challenge() {
        return requiresToken() ? "Bearer realm=\"" + REALM + "\"" : "TLS-client-certificate realm=\"" + REALM + "\"";
    }

    /**
     * Checks one request's credentials.
     *
     * @param headers the request headers
     * @param session the TLS session of its connection
     */
    public Verdict authenticate(Headers headers, SSLSession session) {
        Optional<String> subject = Optional.empty();
        if (requiresClientCertificate) {
            subject = verifiedClient(session);
        }
        List<String> xAuth = headers.get(X_AUTH_TOKEN);
        List<String> authorization = headers.get(AUTHORIZATION);
        boolean tokenPresent = xAuth != null || authorization != null;
        if (requiresClientCertificate && subject.isEmpty()) {
            return Verdict.refused(tokenPresent || !requiresToken() ? Refusal.NO_CLIENT_CERTIFICATE
                    : Refusal.NO_CREDENTIALS);
        }
        if (!requiresToken()) {
            return Verdict.accepted("client certificate " + subject.orElseThrow());
        }
        if (!tokenPresent) {
            return Verdict.refused(requiresClientCertificate ? Refusal.NO_TOKEN : Refusal.NO_CREDENTIALS);
        }
        Optional<String> presented = presentedToken(xAuth, authorization);
        if (presented.isEmpty()) {
            return Verdict.refused(Refusal.MALFORMED_TOKEN);
        }
        // Both sides hashed: the comparison takes the same time whatever the presented token's length or content.
        if (!MessageDigest.isEqual(tokenDigest, digest(presented.get().getBytes(StandardCharsets.UTF_8)))) {
            return Verdict.refused(Refusal.WRONG_TOKEN);
        }
        return Verdict.accepted(subject.map(s -> "token and client certificate " + s).orElse("token"));
    }

    /** {@code X-Auth-Token} when sent (once), else {@code Authorization: Bearer <token>} (once). */
    private static Optional<String> presentedToken(List<String> xAuth, List<String> authorization) {
        if (xAuth != null) {
            return xAuth.size() == 1 ? Optional.of(xAuth.get(0).strip()) : Optional.empty();
        }
        if (authorization.size() != 1) {
            return Optional.empty();
        }
        String value = authorization.get(0).strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            return Optional.empty();
        }
        return Optional.of(value.substring(space + 1).strip());
    }

    /** The subject of the verified client certificate of {@code session}, if it presented one. */
    private static Optional<String> verifiedClient(SSLSession session) {
        if (session == null) {
            return Optional.empty();
        }
        try {
            // Only certificates that passed the trust manager (chained to client_ca_file) are ever set here.
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
                return Optional.of(leaf.getSubjectX500Principal().getName());
            }
            return Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    private static String checkedToken(byte[] bytes) throws PemFiles.Unusable {
        int length = bytes.length;
        if (length > 0 && bytes[length - 1] == '\n') {
            length--;
            if (length > 0 && bytes[length - 1] == '\r') {
                length--;
            }
        }
        for (int i = 0; i < length; i++) {
            if (bytes[i] < 0x21 || bytes[i] > 0x7e) {
                throw new PemFiles.Unusable(TOKEN_CHARACTERS);
            }
        }
        if (length < MIN_TOKEN_CHARS) {
            throw new PemFiles.Unusable(TOKEN_TOO_SHORT);
        }
        if (length > MAX_TOKEN_CHARS) {
            throw new PemFiles.Unusable(TOKEN_TOO_LONG);
        }
        return new String(bytes, 0, length, StandardCharsets.US_ASCII);
    }

    private static byte[] digest(String token) {
        return digest(token.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] digest(byte[] bytes) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            return sha256.digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "CallerAuthenticator[token=" + (requiresToken() ? "required" : "not required")
                + ", clientCertificate=" + (requiresClientCertificate ? "required" : "not required") + "]";
    }
}
