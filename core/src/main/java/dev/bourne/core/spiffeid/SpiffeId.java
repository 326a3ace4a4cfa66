package dev.bourne.core.spiffeid;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A SPIFFE ID: {@code spiffe://<trust domain>/<path>}, validated against every MUST rule of the specification.
 *
 * <p>The path is either empty (the ID of the trust domain itself) or a sequence of {@code /segment}s made of letters,
 * digits, {@code .}, {@code -} and {@code _}, with no empty, {@code .} or {@code ..} segment and no trailing slash.
 * Two IDs are equal when their strings are equal; no normalisation takes place.
 *
 * @param trustDomain the trust domain the ID belongs to
 * @param path the path, empty or starting with {@code /}
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md">SPIFFE-ID.md</a>
 */
public record SpiffeId(TrustDomain trustDomain, String path) implements Comparable<SpiffeId> {

    public SpiffeId {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(path, "path");
        String problem = SpiffeIdRules.pathProblem(path);
        if (problem != null) {
            throw new InvalidSpiffeIdException("invalid SPIFFE ID path", path, problem);
        }
        int bytes = SpiffeIdRules.SCHEME_PREFIX.length() + trustDomain.name().length() + path.length();
        if (bytes > SpiffeIdRules.MAX_ID_BYTES) {
            throw new InvalidSpiffeIdException("invalid SPIFFE ID",
                    SpiffeIdRules.SCHEME_PREFIX + trustDomain.name() + path, SpiffeIdRules.ID_TOO_LONG);
        }
    }

    /**
     * Parses a SPIFFE ID written as a string.
     *
     * @throws InvalidSpiffeIdException whose {@link InvalidSpiffeIdException#reason() reason} names the rule broken
     */
    public static SpiffeId parse(String id) {
        if (id == null || id.isEmpty()) {
            throw invalid(id, SpiffeIdRules.EMPTY);
        }
        // Bound the work on hostile input before scanning it: a valid ID is at most 2048 bytes, and a string of
        // more than 2048 chars has more than 2048 bytes.
        if (id.length() > SpiffeIdRules.MAX_ID_BYTES || SpiffeIdRules.utf8Length(id) > SpiffeIdRules.MAX_ID_BYTES) {
            throw invalid(id, SpiffeIdRules.ID_TOO_LONG);
        }
        if (!id.startsWith(SpiffeIdRules.SCHEME_PREFIX)) {
            boolean otherCase = id.regionMatches(true, 0, SpiffeIdRules.SCHEME_PREFIX, 0,
                    SpiffeIdRules.SCHEME_PREFIX.length());
            throw invalid(id, otherCase ? SpiffeIdRules.SCHEME_NOT_LOWERCASE : SpiffeIdRules.WRONG_SCHEME);
        }
        String rest = id.substring(SpiffeIdRules.SCHEME_PREFIX.length());
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        String problem = SpiffeIdRules.trustDomainProblem(authority);
        if (problem == null) {
            problem = SpiffeIdRules.pathProblem(path);
        }
        if (problem != null) {
            throw invalid(id, problem);
        }
        return new SpiffeId(new TrustDomain(authority), path);
    }

    /**
     * Builds an ID from a trust domain and path segments given one by one, such as
     * {@code SpiffeId.of(td, "spire", "agent", "tpm", hash)}; each segment is checked on its own, so a value that
     * contains a slash cannot smuggle in extra segments.
     */
    public static SpiffeId of(TrustDomain trustDomain, String... segments) {
        Objects.requireNonNull(trustDomain, "trustDomain");
        StringBuilder path = new StringBuilder();
        for (String segment : segments) {
            Objects.requireNonNull(segment, "segment");
            String problem = SpiffeIdRules.standaloneSegmentProblem(segment);
            if (problem != null) {
                throw new InvalidSpiffeIdException("invalid SPIFFE ID path segment", segment, problem);
            }
            path.append('/').append(segment);
        }
        return new SpiffeId(trustDomain, path.toString());
    }

    /** Whether this ID is in {@code other}. */
    public boolean memberOf(TrustDomain other) {
        return trustDomain.equals(other);
    }

    /** Whether this is the ID of the trust domain itself ({@code spiffe://example.org}, empty path). */
    public boolean isTrustDomainId() {
        return path.isEmpty();
    }

    /** The path segments, in order; empty for a trust domain ID. */
    public List<String> segments() {
        if (path.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String segment : path.substring(1).split("/", -1)) {
            out.add(segment);
        }
        return Collections.unmodifiableList(out);
    }

    /** Whether this ID's path starts with the given segments, compared segment by segment. */
    public boolean hasPathPrefix(String... prefix) {
        List<String> segments = segments();
        if (prefix.length > segments.size()) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (!segments.get(i).equals(prefix[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int compareTo(SpiffeId other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public String toString() {
        return SpiffeIdRules.SCHEME_PREFIX + trustDomain.name() + path;
    }

    private static InvalidSpiffeIdException invalid(String id, String reason) {
        return new InvalidSpiffeIdException("invalid SPIFFE ID", id, reason);
    }
}
