package dev.bourne.agent.workloadattestor.internal;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The id-to-name table of {@code /etc/passwd} ({@code name:password:uid:gid:gecos:home:shell}) or {@code /etc/group}
 * ({@code name:password:gid:members}), parsed the way {@code getpwuid}/{@code getgrgid} read the files backend:
 * the first line for an id wins.
 *
 * <p>Lines that are comments, blank, NIS compat entries ({@code +}/{@code -}), too long, with too few fields, a name
 * that could not be a selector (empty, control characters) or an id that is not an unsigned 32-bit decimal are
 * skipped: a broken line must not take names away from the other users, and it can never produce a name for an id
 * it does not state plainly. The agent reads these files itself rather than running {@code getent}: no process is
 * spawned per Workload API call, and NSS modules (LDAP, sssd) are deliberately not consulted.
 */
public final class AccountFile {
    /** Larger files are refused: a passwd file of a million users is about 100 MB, far beyond any host. */
    public static final int MAX_FILE_BYTES = 16 * 1024 * 1024;
    /** Longer lines are skipped (glibc's own buffer limit for a line is similar). */
    public static final int MAX_LINE_CHARS = 64 * 1024;
    /** Longest user or group name kept (Linux tools allow 32; some systems more). */
    public static final int MAX_NAME_CHARS = 256;

    private final Map<Long, String> names;

    private AccountFile(Map<Long, String> names) {
        this.names = Collections.unmodifiableMap(names);
    }

    /** Parses {@code /etc/passwd} content: name in field 1, uid in field 3. */
    public static AccountFile passwd(String content) {
        return parse(content, 7);
    }

    /** Parses {@code /etc/group} content: name in field 1, gid in field 3. */
    public static AccountFile group(String content) {
        return parse(content, 4);
    }

    private static AccountFile parse(String content, int fieldCount) {
        if (content.length() > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("account file is larger than " + MAX_FILE_BYTES + " bytes");
        }
        Map<Long, String> names = new HashMap<>();
        int start = 0;
        while (start < content.length()) {
            int end = content.indexOf('\n', start);
            if (end < 0) {
                end = content.length();
            }
            if (end - start <= MAX_LINE_CHARS) {
                addLine(content.substring(start, end), fieldCount, names);
            }
            start = end + 1;
        }
        return new AccountFile(names);
    }

    private static void addLine(String line, int fieldCount, Map<Long, String> names) {
        if (line.isEmpty() || line.charAt(0) == '#' || line.charAt(0) == '+' || line.charAt(0) == '-') {
            return;
        }
        String[] fields = line.split(":", -1);
        if (fields.length != fieldCount) {
            return;
        }
        String name = fields[0];
        if (name.isEmpty() || name.length() > MAX_NAME_CHARS || name.chars().anyMatch(Character::isISOControl)
                || name.chars().anyMatch(Character::isWhitespace)) {
            return;
        }
        long id = Ids.parseId(fields[2]);
        if (id < 0) {
            return;
        }
        names.putIfAbsent(id, name);
    }

    /** The name of {@code id}, if a valid line states one. */
    public Optional<String> name(long id) {
        return Optional.ofNullable(names.get(id));
    }

    /** How many ids have a name. */
    public int size() {
        return names.size();
    }
}
