package dev.bourne.appliance.datastore.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A PostgreSQL {@code connection_string} parsed into a JDBC URL without credentials and the driver properties.
 *
 * <p>Accepts the three forms operators write: a libpq URI ({@code postgresql://user:pass@host:5432/db?sslmode=...},
 * also {@code postgres://}), a libpq key/value string ({@code host=h port=5432 dbname=db user=u password='p w'}),
 * and a pgjdbc URL ({@code jdbc:postgresql://host:5432/db?user=u&password=p}). The password goes into the
 * properties, never into the URL, because drivers and migration tools log URLs. Only the parameters listed in
 * {@link #PARAMETERS} are accepted: pgjdbc has properties that load arbitrary classes ({@code socketFactory},
 * {@code sslfactory}) or write files ({@code loggerFile}), which a connection string has no business setting.
 *
 * <p>Holds a password: {@link #toString()} is redacted, and error messages name keys, never values.
 */
public final class PostgresConnectionString {
    public static final String EMPTY = "is empty";
    public static final String UNKNOWN_PARAMETER = "unknown parameter";
    public static final String MALFORMED = "is not a PostgreSQL URL (postgresql://...) or key=value list";
    public static final String UNTERMINATED_QUOTE = "has an unterminated quoted value";
    public static final String MISSING_DATABASE = "names no database (dbname)";
    public static final String BAD_PORT = "has a port that is not a number from 1 to 65535";
    public static final String UNIX_SOCKET =
            "names a Unix socket directory as host; the JDBC driver connects over TCP only (use host=127.0.0.1)";
    public static final String BAD_SSLMODE =
            "has an sslmode other than disable, allow, prefer, require, verify-ca, verify-full";

    private static final List<String> SSL_MODES =
            List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    /** Accepted parameter names (libpq and pgjdbc spellings) and the pgjdbc property each one sets. */
    static final Map<String, String> PARAMETERS = Map.ofEntries(
            Map.entry("user", "user"),
            Map.entry("password", "password"),
            Map.entry("sslmode", "sslmode"),
            Map.entry("sslrootcert", "sslrootcert"),
            Map.entry("sslcert", "sslcert"),
            Map.entry("sslkey", "sslkey"),
            Map.entry("sslpassword", "sslpassword"),
            Map.entry("connect_timeout", "connectTimeout"),
            Map.entry("connectTimeout", "connectTimeout"),
            Map.entry("socketTimeout", "socketTimeout"),
            Map.entry("application_name", "ApplicationName"),
            Map.entry("ApplicationName", "ApplicationName"));

    private final String jdbcUrl;
    private final Properties properties;

    private PostgresConnectionString(String jdbcUrl, Properties properties) {
        this.jdbcUrl = jdbcUrl;
        this.properties = properties;
    }

    /** The JDBC URL: hosts, ports and database only. */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** A copy of the driver properties, credentials included. */
    public Properties properties() {
        Properties copy = new Properties();
        copy.putAll(properties);
        return copy;
    }

    /**
     * Parses a connection string.
     *
     * @throws IllegalArgumentException whose message is one of this class's reason constants, possibly followed by a
     *     parameter name; never a value
     */
    public static PostgresConnectionString parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(EMPTY);
        }
        String trimmed = text.strip();
        String lower = trimmed.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:postgresql://")) {
            return fromUri(trimmed.substring("jdbc:postgresql://".length()));
        }
        if (lower.startsWith("postgresql://")) {
            return fromUri(trimmed.substring("postgresql://".length()));
        }
        if (lower.startsWith("postgres://")) {
            return fromUri(trimmed.substring("postgres://".length()));
        }
        if (trimmed.contains("=") && !trimmed.contains("://")) {
            return fromKeyValues(trimmed);
        }
        throw new IllegalArgumentException(MALFORMED);
    }

    private static PostgresConnectionString fromUri(String rest) {
        Map<String, String> params = new LinkedHashMap<>();
        int question = rest.indexOf('?');
        String query = question < 0 ? "" : rest.substring(question + 1);
        String beforeQuery = question < 0 ? rest : rest.substring(0, question);
        int slash = beforeQuery.indexOf('/');
        String authority = slash < 0 ? beforeQuery : beforeQuery.substring(0, slash);
        String database = slash < 0 ? "" : decode(beforeQuery.substring(slash + 1));
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = userInfo.indexOf(':');
            params.put("user", decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
            if (colon >= 0) {
                params.put("password", decode(userInfo.substring(colon + 1)));
            }
        }
        if (!query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException(MALFORMED);
                }
                String key = decode(pair.substring(0, eq));
                String value = decode(pair.substring(eq + 1));
                if (key.equals("dbname")) {
                    database = value;
                } else if (key.equals("host") || key.equals("port")) {
                    // libpq allows them as parameters too; keep to one place for the address
                    throw new IllegalArgumentException(UNKNOWN_PARAMETER + " \"" + key + "\" (put it in the address)");
                } else {
                    params.put(key, value);
                }
            }
        }
        String hosts = authority.isEmpty() ? "localhost" : authority;
        for (String hostPort : hosts.split(",", -1)) {
            int colon = hostPort.lastIndexOf(':');
            if (colon >= 0 && !hostPort.endsWith("]")) {
                checkPort(hostPort.substring(colon + 1));
            }
            if (hostPort.isEmpty() || hostPort.startsWith(":")) {
                throw new IllegalArgumentException(MALFORMED);
            }
        }
        return build(hosts, database, params);
    }

    private static PostgresConnectionString fromKeyValues(String text) {
        Map<String, String> params = new LinkedHashMap<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int keyStart = i;
            while (i < n && text.charAt(i) != '=' && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            String key = text.substring(keyStart, i);
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (key.isEmpty() || i >= n || text.charAt(i) != '=') {
                throw new IllegalArgumentException(MALFORMED);
            }
            i++;
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && text.charAt(i) == '\'') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = text.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(text.charAt(i++));
                    } else if (c == '\'') {
                        closed = true;
                        break;
                    } else {
                        value.append(c);
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException(UNTERMINATED_QUOTE);
                }
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    char c = text.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(text.charAt(i++));
                    } else {
                        value.append(c);
                    }
                }
            }
            params.put(key, value.toString());
        }
        String host = params.containsKey("host") ? params.remove("host") : "localhost";
        String port = params.remove("port");
        String database = params.containsKey("dbname") ? params.remove("dbname") : "";
        StringBuilder hosts = new StringBuilder();
        String[] hostList = host.split(",", -1);
        String[] portList = port == null ? new String[0] : port.split(",", -1);
        for (int h = 0; h < hostList.length; h++) {
            if (hostList[h].isEmpty()) {
                throw new IllegalArgumentException(MALFORMED);
            }
            if (hostList[h].startsWith("/")) {
                throw new IllegalArgumentException(UNIX_SOCKET);
            }
            if (h > 0) {
                hosts.append(',');
            }
            hosts.append(hostList[h].contains(":") ? "[" + hostList[h] + "]" : hostList[h]);
            String p = portList.length == 0 ? null : portList[Math.min(h, portList.length - 1)];
            if (p != null) {
                checkPort(p);
                hosts.append(':').append(p);
            }
        }
        return build(hosts.toString(), database, params);
    }

    private static PostgresConnectionString build(String hosts, String database, Map<String, String> params) {
        if (database.isEmpty()) {
            throw new IllegalArgumentException(MISSING_DATABASE);
        }
        Properties properties = new Properties();
        for (Map.Entry<String, String> param : params.entrySet()) {
            String property = PARAMETERS.get(param.getKey());
            if (property == null) {
                throw new IllegalArgumentException(UNKNOWN_PARAMETER + " \"" + printable(param.getKey()) + "\"");
            }
            properties.setProperty(property, param.getValue());
        }
        String sslmode = properties.getProperty("sslmode");
        if (sslmode != null && !SSL_MODES.contains(sslmode)) {
            throw new IllegalArgumentException(BAD_SSLMODE);
        }
        String url = "jdbc:postgresql://" + hosts + "/" + encodePath(database);
        return new PostgresConnectionString(url, properties);
    }

    private static void checkPort(String port) {
        try {
            int value = Integer.parseInt(port);
            if (value < 1 || value > 65535) {
                throw new IllegalArgumentException(BAD_PORT);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(BAD_PORT);
        }
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(MALFORMED);
        }
    }

    private static String encodePath(String database) {
        StringBuilder out = new StringBuilder();
        for (byte b : database.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
                    || c == '.') {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    /** A parameter name as it may appear in an error: printable ASCII only, at most 64 characters. */
    private static String printable(String key) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < key.length() && i < 64; i++) {
            char c = key.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "PostgresConnectionString[" + jdbcUrl + ", credentials redacted]";
    }
}
