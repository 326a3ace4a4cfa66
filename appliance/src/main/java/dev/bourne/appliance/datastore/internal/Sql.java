package dev.bourne.appliance.datastore.internal;

import dev.bourne.appliance.datastore.SelectorMatch;
import dev.bourne.core.selector.Selector;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * The SQL pieces the datastore builds statements from: parameter binding, selector-set conditions, and the hashes
 * rows are keyed by. Plain SQL that SQLite and PostgreSQL both accept; every value is a bound parameter.
 */
public final class Sql {

    private Sql() {
    }

    /**
     * The SQL condition that a record's selector set {@code R} (rows of {@code table} whose {@code keyColumn} equals
     * {@code outerKey}) relates to the given set {@code G} as the mode says, comparing selector hashes. Every mode
     * first narrows candidates to records holding at least one selector of {@code G}, through the hash index: an
     * entry never has an empty set, and a node with none matches no mode, so no match lies outside it.
     */
    public static String selectorCondition(String table, String keyColumn, String outerKey, SelectorMatch match,
            List<Object> params) {
        List<Selector> given = match.selectors();
        String in = "selector_hash IN (" + placeholders(given.size()) + ")";
        String own = "SELECT 1 FROM " + table + " s WHERE s." + keyColumn + " = " + outerKey;
        StringBuilder sql = new StringBuilder();
        sql.append(outerKey).append(" IN (SELECT ").append(keyColumn).append(" FROM ").append(table)
                .append(" WHERE ").append(in).append(")");
        addSelectorHashes(params, given);
        switch (match.mode()) {
            case ANY -> {
            }
            case SUPERSET -> {
                sql.append(" AND (SELECT COUNT(*) FROM ").append(table).append(" s WHERE s.").append(keyColumn)
                        .append(" = ").append(outerKey).append(" AND s.").append(in).append(") = ?");
                addSelectorHashes(params, given);
                params.add(given.size());
            }
            case SUBSET -> {
                sql.append(" AND NOT EXISTS (").append(own).append(" AND s.").append(in.replace(" IN ", " NOT IN "))
                        .append(")");
                addSelectorHashes(params, given);
            }
            case EXACT -> {
                sql.append(" AND NOT EXISTS (").append(own).append(" AND s.").append(in.replace(" IN ", " NOT IN "))
                        .append(")");
                addSelectorHashes(params, given);
                sql.append(" AND (SELECT COUNT(*) FROM ").append(table).append(" s WHERE s.").append(keyColumn)
                        .append(" = ").append(outerKey).append(") = ?");
                params.add(given.size());
            }
            default -> throw new IllegalStateException("unhandled mode " + match.mode());
        }
        return sql.toString();
    }

    private static void addSelectorHashes(List<Object> params, List<Selector> given) {
        for (Selector selector : given) {
            params.add(selectorHash(selector));
        }
    }

    /** SHA-256 of the length-prefixed type and value: the key selectors are stored and matched by. */
    public static String selectorHash(Selector selector) {
        return sha256(List.of(selector.type(), selector.value()));
    }

    /** Lowercase hex SHA-256 of the parts, each preceded by its UTF-8 length, so no two lists hash alike by design. */
    public static String sha256(List<String> parts) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        for (String part : parts) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            digest.update(new byte[] {(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
                (byte) (bytes.length >>> 8), (byte) bytes.length});
            digest.update(bytes);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    public static boolean exists(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = prepare(c, sql, List.of(params)); ResultSet r = s.executeQuery()) {
            return r.next();
        }
    }

    public static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = prepare(c, sql, List.of(params))) {
            return s.executeUpdate();
        }
    }

    public static PreparedStatement prepare(Connection c, String sql, Collection<Object> params) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        try {
            int i = 1;
            for (Object param : params) {
                if (param instanceof String text) {
                    s.setString(i++, text);
                } else if (param instanceof Integer number) {
                    s.setInt(i++, number);
                } else if (param instanceof Long number) {
                    s.setLong(i++, number);
                } else if (param instanceof Boolean flag) {
                    s.setBoolean(i++, flag);
                } else {
                    throw new IllegalArgumentException("unsupported parameter type " + param.getClass());
                }
            }
            return s;
        } catch (SQLException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public static String placeholders(int count) {
        return String.join(", ", Collections.nCopies(count, "?"));
    }
}
