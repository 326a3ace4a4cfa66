package dev.bourne.testing.hsm;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenSC's {@code pkcs11-tool} run against a {@link SoftHsmToken}: an independent look at the token, outside the JVM
 * and outside SunPKCS11, to check what the code under test really left there.
 */
public final class Pkcs11Tool {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String PIN_VARIABLE = "BOURNE_PKCS11_PIN";
    private static final Pattern HEADING = Pattern.compile("^(.+?) [Oo]bject;?\\s*(.*)$");

    private Pkcs11Tool() {
    }

    /** Every object on the token, as the logged-in user sees them (so private objects too). */
    public static List<Pkcs11Object> listObjects(SoftHsmToken token) {
        Path tool = RequiredTool.PKCS11_TOOL.path();
        char[] pin = token.pin();
        try {
            // pkcs11-tool 0.23 reads "--pin env:NAME" from the environment, which only this user can read in /proc,
            // unlike the command line. A throwaway test token's PIN would be acceptable on the command line anyway.
            Exec.Result result = Exec.run(List.of(tool.toString(), "--module", token.library().toString(),
                            "--slot", Long.toString(token.slot()), "--login", "--pin", "env:" + PIN_VARIABLE,
                            "--list-objects"),
                    Map.of(SoftHsmPool.CONF_VARIABLE, token.conf().toString(), PIN_VARIABLE, new String(pin)),
                    TIMEOUT).requireSuccess();
            return parseObjects(result.stdout());
        } finally {
            Arrays.fill(pin, '\0');
        }
    }

    /**
     * Parses {@code pkcs11-tool --list-objects} output: an unindented heading per object ({@code Private Key Object;
     * EC}), then indented {@code name: value} lines.
     */
    static List<Pkcs11Object> parseObjects(String output) {
        List<Pkcs11Object> objects = new ArrayList<>();
        String kind = null;
        String type = null;
        Map<String, String> attributes = new LinkedHashMap<>();
        for (String line : output.split("\\R")) {
            if (line.isBlank()) {
                continue;
            }
            if (!Character.isWhitespace(line.charAt(0))) {
                Matcher heading = HEADING.matcher(line.strip());
                if (!heading.matches()) {
                    continue;
                }
                if (kind != null) {
                    objects.add(object(kind, type, attributes));
                }
                kind = heading.group(1).strip();
                type = heading.group(2).strip();
                attributes = new LinkedHashMap<>();
                continue;
            }
            int colon = line.indexOf(':');
            if (kind != null && colon > 0) {
                attributes.putIfAbsent(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        if (kind != null) {
            objects.add(object(kind, type, attributes));
        }
        return List.copyOf(objects);
    }

    private static Pkcs11Object object(String kind, String type, Map<String, String> attributes) {
        return new Pkcs11Object(kind, type, attributes.getOrDefault("label", ""),
                attributes.getOrDefault("ID", "").toLowerCase(Locale.ROOT), flags(attributes.get("Usage")),
                flags(attributes.get("Access")), attributes);
    }

    private static List<String> flags(String value) {
        if (value == null || value.isBlank() || value.equals("none")) {
            return List.of();
        }
        return Arrays.stream(value.split(",")).map(String::strip).filter(flag -> !flag.isEmpty()).toList();
    }
}
